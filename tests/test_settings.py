"""Fine-tuning settings follow what the weights are and where they run (issue 10 §5).

Before: notebooks 08 and 09 chose ``quick-cpu`` (lr 5e-4, tuned for a random-init stand-in) for any
CPU run with real data, so ``full`` on a laptop fine-tuned the real KoBERT / klue/bert-base at 5e-4
for 300 / 200 bert-base steps. Now ``train.choose_setting`` decides, once, for 06/08/09.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_utils import env, models, registry, train

REPO = Path(__file__).resolve().parent.parent
CELL_TIMEOUT_S = 1800          # nbval / course.sh cell timeout
FINETUNE_BUDGET_S = 180        # CONTRIBUTING: each fine-tuning notebook ≤ 3 min offline on 2 cores


def _res(name, origin, weights):
    return models.Resolution(name, "seqcls", origin, "somewhere", "note", weights,
                             None if origin in ("hub", "mirror") else registry.MODELS[name].standin)


REAL = ("hub", "pretrained + new classifier head (random init)")
MIRROR = ("mirror", "pretrained + new classifier head (random init)")
STANDIN_RANDOM = ("standin", "random init (no pretraining steps) + new classifier head (random init)")
STANDIN_MINILM = ("standin", "pretrained + new classifier head (random init)")
MODEL = {"nsmc": "skt/kobert-base-v1", "kornli": "klue/bert-base", "imdb": "bert-base-uncased"}


@pytest.fixture
def fake_resolve(monkeypatch):
    def use(origin, weights):
        monkeypatch.setattr(models, "resolve", lambda name, task="base": _res(name, origin, weights))
    return use


@pytest.mark.parametrize("task", sorted(train.SETTING_TASKS))
@pytest.mark.parametrize("weights", [REAL, MIRROR])
@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("real_data", [True, False])
def test_pretrained_weights_never_get_a_standin_learning_rate(fake_resolve, monkeypatch, task, weights, device, real_data):
    fake_resolve(*weights)
    monkeypatch.setattr("course_utils.data.is_real", lambda name: real_data)
    s = train.choose_setting(task, MODEL[task], device)
    assert s.config["learning_rate"] <= train.MAX_PRETRAINED_LR <= 1e-4, s
    assert s.name.startswith(("full", "real")), s
    if device == "cpu":
        assert s.config["max_steps"] > 0 and s.estimate_s is not None
        assert s.estimate_s < CELL_TIMEOUT_S / 2, s.describe()        # fits the cell timeout with room to spare


@pytest.mark.parametrize("task", ["nsmc", "kornli"])
def test_random_init_standins_keep_their_settings(fake_resolve, monkeypatch, task):
    fake_resolve(*STANDIN_RANDOM)
    monkeypatch.setattr("course_utils.data.is_real", lambda name: True)
    cpu = train.choose_setting(task, MODEL[task], "cpu")
    assert cpu.name == "standin-cpu" and cpu.config["learning_rate"] == 5e-4
    assert cpu.estimate_s < FINETUNE_BUDGET_S * 2 and "2 CPU cores" in cpu.estimate
    assert train.choose_setting(task, MODEL[task], "cuda").name == "standin-gpu"
    monkeypatch.setattr("course_utils.data.is_real", lambda name: False)
    fix = train.choose_setting(task, MODEL[task], "cpu")
    assert fix.name == "fixtures" and fix.estimate_s < FINETUNE_BUDGET_S


def test_imdb_minilm_standin_is_pretrained_so_its_lr_stays_small(fake_resolve, monkeypatch):
    fake_resolve(*STANDIN_MINILM)
    monkeypatch.setattr("course_utils.data.is_real", lambda name: True)
    s = train.choose_setting("imdb", "bert-base-uncased", "cpu")
    assert s.name == "standin-cpu" and s.config["learning_rate"] <= train.MAX_PRETRAINED_LR


def test_real_weights_on_cpu_get_fewer_steps_than_the_standin(fake_resolve, monkeypatch):
    monkeypatch.setattr("course_utils.data.is_real", lambda name: True)
    for task in ("nsmc", "kornli"):
        fake_resolve(*REAL)
        real = train.choose_setting(task, MODEL[task], "cpu")
        fake_resolve(*STANDIN_RANDOM)
        standin = train.choose_setting(task, MODEL[task], "cpu")
        assert real.config["max_steps"] < standin.config["max_steps"]
        assert real.estimate_s > standin.estimate_s       # bert-base steps cost more: the estimate says so


def test_kornli_without_training_sets_on_a_gpu_is_not_full(fake_resolve, monkeypatch):
    fake_resolve(*MIRROR)
    monkeypatch.setattr("course_utils.data.is_real", lambda name: name.startswith("kornli/xnli"))
    assert train.choose_setting("kornli", "klue/bert-base", "cuda").name == "real-gpu"
    monkeypatch.setattr("course_utils.data.is_real", lambda name: True)
    assert train.choose_setting("kornli", "klue/bert-base", "cuda").name == "full-gpu"


def test_estimates_come_from_measured_step_times():
    for key, (step, fwd) in train.CPU_STEP_S.items():
        assert key[0] in train.STEP_SHAPES and step > 0 and fwd > 0
    a = train.estimate_cpu_seconds("nsmc", "standin-cpu", "standin-ko")
    b = train.estimate_cpu_seconds("nsmc", "real-cpu", "bert-base")
    assert 0 < a < b


def test_measure_cpu_steps_runs(monkeypatch):
    """The measuring command works (one tiny shape, so the test stays fast)."""
    monkeypatch.setitem(train.STEP_SHAPES, "tiny", dict(num_hidden_layers=1, hidden_size=32, num_attention_heads=2,
                                                        intermediate_size=64, vocab_size=1000))
    out = train.measure_cpu_steps([("tiny", 4, 16)], steps=1)
    step, fwd = out[("tiny", 4, 16)]
    assert step >= 0 and fwd >= 0


# ---------------------------------------------------------------- the notebooks' setting cells, run as under `full` on a CPU

def _setting_cell(nb: str) -> str:
    cells = json.loads((REPO / "notebooks" / nb).read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    found = [c for c in code if "SETTING" in c and "FinetuneConfig(" in c]
    assert len(found) == 1, f"{nb}: expected one settings cell"
    return found[0]


@pytest.mark.parametrize("nb,model", [("06_finetune_imdb_pytorch.ipynb", "bert-base-uncased"),
                                      ("08_finetune_nsmc_kobert.ipynb", "skt/kobert-base-v1"),
                                      ("09_kornli_nli.ipynb", "klue/bert-base")])
def test_notebook_settings_under_full_on_a_cpu(nb, model, monkeypatch, tmp_path):
    """The regression: `full` + no GPU must not fine-tune the real checkpoint at 5e-4 for hundreds of steps."""
    import torch

    monkeypatch.setenv("BERT_COURSE_PROFILE", "full")
    monkeypatch.setenv("BERT_COURSE_CACHE", str(tmp_path))
    monkeypatch.delenv("BERT_COURSE_ASSETS", raising=False)
    monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: True)   # nothing is downloaded: the cell only resolves
    ns = {"ENV": {"profile": "full", "device": torch.device("cpu")}}
    exec(compile(_setting_cell(nb), nb, "exec"), ns)
    cfg = ns["cfg"]
    assert models.resolve(model, "seqcls").origin == "hub"
    assert cfg.learning_rate <= 1e-4, f"{nb}: real {model} on a CPU gets lr {cfg.learning_rate}"
    assert 0 < cfg.max_steps <= 100, f"{nb}: {cfg.max_steps} bert-base steps on 2 CPU cores"
