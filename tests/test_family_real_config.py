"""family.check_real_config against the real config.json files (lesson 13, cell c007, under `full`).

The real files are the local hub's (tests/hubserver.py WORLD_FAMILY_CONFIGS, written from the hub files,
independently of course_utils.family). huggingface_hub's download is replaced by one that returns them, so
these run without a server. DeBERTa-v3's config.json spells ``"pos_att_type": "p2c|c2p"`` (a string that
DebertaV2Config splits into ``["p2c", "c2p"]``): compared raw, every online run of lesson 13 failed its assert.
"""
from __future__ import annotations

import json

import hubserver  # tests/ is on sys.path under pytest's default import mode
import pytest

from course_utils import family, registry


@pytest.fixture
def hub_configs(monkeypatch, tmp_path):
    """hf_hub_download(repo, "config.json", revision=…) → the world's real config.json at the world's commit."""
    import huggingface_hub

    served = dict(hubserver.WORLD_FAMILY_CONFIGS)
    calls = []

    def fake_download(repo_id, filename, revision=None, **kwargs):
        calls.append((repo_id, filename, revision))
        assert filename == "config.json"
        assert revision == hubserver.WORLD_COMMITS[repo_id], f"{repo_id}: asked for {revision}"
        path = tmp_path / repo_id.replace("/", "--") / "config.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(served[repo_id], indent=2), encoding="utf-8")
        return str(path)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    return served, calls


FAMILY_ONLY = [n for n in family.FAMILY if registry.FAMILY_CHECKPOINTS[n][0] in hubserver.WORLD_FAMILY_CONFIGS]


def test_the_world_holds_every_family_repository_at_the_registry_pin():
    for name in family.FAMILY:
        hub_id, rev = registry.FAMILY_CHECKPOINTS[name]
        assert hub_id in hubserver.WORLD_COMMITS, name
        assert hubserver.WORLD_COMMITS[hub_id] == rev, (name, rev, hubserver.WORLD_COMMITS[hub_id])
    assert set(FAMILY_ONLY) == set(family.FAMILY) - {"bert-base-uncased"}   # that one is the shrunk BERT replica


@pytest.mark.parametrize("name", FAMILY_ONLY)
def test_stored_config_matches_the_real_config_json(hub_configs, name):
    assert family.check_real_config(name) == {}


def test_deberta_pos_att_type_is_a_string_in_the_real_file(hub_configs):
    served, calls = hub_configs
    assert served["microsoft/deberta-v3-base"]["pos_att_type"] == "p2c|c2p"
    assert family.FAMILY["deberta-v3-base"]["config"]["pos_att_type"] == ["p2c", "c2p"]
    assert family.check_real_config("deberta-v3-base") == {}
    assert calls == [("microsoft/deberta-v3-base", "config.json", registry.FAMILY_CHECKPOINTS["deberta-v3-base"][1])]


def test_a_real_difference_is_still_reported(hub_configs):
    served, _ = hub_configs
    served["microsoft/deberta-v3-base"] = {**served["microsoft/deberta-v3-base"], "pos_att_type": "c2p",
                                           "vocab_size": 128001}
    diff = family.check_real_config("deberta-v3-base")
    assert diff == {"pos_att_type": (["p2c", "c2p"], "c2p"), "vocab_size": (128100, 128001)}


def test_a_key_missing_from_the_real_file_is_reported(hub_configs):
    served, _ = hub_configs
    cfg = dict(served["FacebookAI/roberta-base"])
    del cfg["type_vocab_size"]          # RobertaConfig's default would be 2: a stored 1 must not pass silently
    served["FacebookAI/roberta-base"] = cfg
    assert family.check_real_config("roberta-base") == {"type_vocab_size": (1, None)}
