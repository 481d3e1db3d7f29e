"""Every file the registry can download has a size and a sha256 (issue 10 §6), and they are right
where we can check them (the mirror in shared/assets holds byte-identical NSMC and XNLI files)."""
from __future__ import annotations

import hashlib
import re

import pytest

from course_utils import env, registry

# published by HF datasets for aclImdb_v1.tar.gz (dataset_infos.json of `imdb`)
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"


def test_every_downloadable_file_has_size_and_sha256():
    lacking = [f.name for f in registry.DATA_FILES.values()
               if f.url and not (isinstance(f.size, int) and f.size > 0
                                 and isinstance(f.sha256, str) and re.fullmatch(r"[0-9a-f]{64}", f.sha256))]
    assert not lacking, f"no size/sha256 for: {lacking}"
    imdb = registry.data_file("imdb/aclImdb")
    assert (imdb.size, imdb.sha256) == (84_125_825, IMDB_SHA256)


@pytest.mark.mirror
def test_registry_checksums_match_the_mirror_files():
    checked = 0
    for f in registry.DATA_FILES.values():
        for rel in f.mirror:
            path = env.mirror_path(rel, warn=False)
            if path is None or path.name != f.url.rsplit("/", 1)[-1]:
                continue          # only files named like the upstream file are byte-identical to it
            assert path.stat().st_size == f.size, f.name
            assert hashlib.sha256(path.read_bytes()).hexdigest() == f.sha256, f.name
            checked += 1
    assert checked >= 4       # nsmc train/test, xnli dev/test
