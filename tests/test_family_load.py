"""course_utils.family.load_for_classification (lesson 13's GPU cell under `full`): the two Korean checkpoints
it fine-tunes next to KoBERT are pinned, and they load at that pin, without remote code, with a provenance line."""
import re

import pytest

from course_utils import env, family, registry

GPU_CELL = ("klue/roberta-base", "koelectra-base-v3-discriminator")   # issue 15: "Pin both in the registry"


@pytest.mark.parametrize("name", GPU_CELL)
def test_the_gpu_cell_checkpoints_are_pinned_to_full_commit_ids(name):
    hub_id, revision = registry.FAMILY_CHECKPOINTS[name]
    assert revision is not None and re.fullmatch(r"[0-9a-f]{40}", revision), (hub_id, revision)


def test_load_for_classification_loads_at_the_pin_without_remote_code(monkeypatch, capsys):
    import transformers

    calls = []

    class _Model:
        def to(self, device):
            calls.append(("to", device))
            return self

    def fake(kind):
        def from_pretrained(repo_id, **kwargs):
            calls.append((kind, repo_id, kwargs))
            return _Model() if kind == "model" else object()
        return from_pretrained

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", fake("tokenizer"))
    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained", fake("model"))
    hub_id, revision = registry.FAMILY_CHECKPOINTS["koelectra-base-v3-discriminator"]
    model, tok = family.load_for_classification("koelectra-base-v3-discriminator", num_labels=2, device="cpu")
    kinds = {c[0]: c for c in calls}
    for kind in ("tokenizer", "model"):
        _, repo, kwargs = kinds[kind]
        assert repo == hub_id and kwargs["revision"] == revision and kwargs["trust_remote_code"] is False
    assert kinds["model"][2]["num_labels"] == 2 and ("to", "cpu") in calls
    line = env.sources()[-1].line()
    assert hub_id in line and revision[:7] in line and "UNPINNED" not in line
    assert revision[:7] in capsys.readouterr().out


def test_load_for_classification_names_the_known_checkpoints():
    with pytest.raises(KeyError, match="klue/roberta-base"):
        family.load_for_classification("monologg/kobert")
