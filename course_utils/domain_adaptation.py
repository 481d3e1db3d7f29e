"""Domain adaptation: continued masked-LM pre-training on in-domain text, then fine-tuning with few labels.

Lesson: ``11_domain_adaptation`` (DAPT/TAPT, Gururangan et al., ACL 2020, arXiv:2004.10964), and the
recorded downstream table of ``benchmarks/domain_adaptation.py``.

One implementation per step, reused from the course:

- continued pre-training and scoring: :func:`course_utils.lm_training.train_mlm`,
  :func:`~course_utils.lm_training.fixed_mlm_eval_set`, :func:`~course_utils.lm_training.evaluate_mlm`;
- fine-tuning: :func:`course_utils.train.make_trainer` with a :class:`~course_utils.train.FinetuneConfig`.

This module only adds the glue: :func:`classifier_from_mlm` (the adapted encoder under a new, seeded
classifier, so "with" and "without" adaptation differ in the encoder only), :func:`finetune_few_labels`
and :func:`mean_sd` / :func:`summarise_runs` for the "mean ± sd over seeds" table.
"""
from __future__ import annotations

import copy
import math
import time
from typing import Optional, Sequence


def classifier_from_mlm(mlm_model, *, num_labels: int = 2, id2label: Optional[dict] = None, seed: int = 0):
    """A ``BertForSequenceClassification`` whose encoder (embeddings, layers and, if present, pooler) is a
    copy of ``mlm_model``'s (``BertForPreTraining`` or ``BertForMaskedLM``), with a new classifier drawn
    from ``torch.manual_seed(seed)``. The MLM model is not changed. Lesson 11: with and without
    adaptation, the classifiers of one seed start from the same random head."""
    import torch
    from transformers import BertForSequenceClassification

    base = getattr(mlm_model, "bert", None)
    if base is None:
        raise TypeError(f"{type(mlm_model).__name__} has no .bert encoder (expected a BERT MLM model).")
    cfg = copy.deepcopy(mlm_model.config)
    cfg.num_labels = num_labels
    cfg.architectures = ["BertForSequenceClassification"]
    if id2label:
        cfg.id2label = {int(k): v for k, v in id2label.items()}
        cfg.label2id = {v: int(k) for k, v in id2label.items()}
    torch.manual_seed(seed)
    clf = BertForSequenceClassification(cfg)
    missing, unexpected = clf.bert.load_state_dict(base.state_dict(), strict=False)
    bad = [k for k in missing if not k.startswith("pooler.")] + list(unexpected)
    if bad:
        raise ValueError(f"classifier_from_mlm: encoder weights do not match: {bad[:5]}")
    return clf.to(next(mlm_model.parameters()).device).eval()


def finetune_few_labels(mlm_model, tokenizer, train_ds, test_ds, cfg, *, seed: int, text: str = "text") -> dict:
    """Fine-tune :func:`classifier_from_mlm` (seeded head) on ``train_ds`` with ``cfg``
    (:class:`course_utils.train.FinetuneConfig`; its ``seed`` is replaced by ``seed``) and score it on
    ``test_ds``. Returns ``accuracy``, ``f1_macro``, ``seconds``, ``seed``, ``n_train``, ``n_test``."""
    import dataclasses

    from . import train

    cfg = dataclasses.replace(cfg, seed=seed)
    names = train_ds.features["label"].names if hasattr(train_ds.features["label"], "names") else None
    model = classifier_from_mlm(mlm_model, num_labels=len(names) if names else 2,
                                id2label=dict(enumerate(names)) if names else None, seed=seed)
    tr = train.tokenize(train_ds, tokenizer, text, max_length=cfg.max_length)
    te = train.tokenize(test_ds, tokenizer, text, max_length=cfg.max_length)
    trainer = train.make_trainer(model, tokenizer, tr, te, cfg, eval_strategy="no", disable_tqdm=True)
    t0 = time.perf_counter()
    trainer.train()
    out = trainer.predict(te)
    return {"seed": seed, "accuracy": float(out.metrics["test_accuracy"]), "f1_macro": float(out.metrics["test_f1_macro"]),
            "seconds": round(time.perf_counter() - t0, 1), "n_train": len(train_ds), "n_test": len(test_ds)}


def mean_sd(values: Sequence[float]) -> tuple:
    """``(mean, sample standard deviation)`` (ddof 1; sd 0.0 for a single value)."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("mean_sd: no values.")
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return m, sd


def summarise_runs(runs: Sequence[dict], key: str = "accuracy") -> list:
    """Rows ``{language, model, arm, n, mean, sd, values}`` from run records (each with ``language``,
    ``model``, ``arm`` and ``key``), grouped in first-seen order, plus ``gain`` (adapted − not adapted)
    on the rows of the adapted arm."""
    groups: dict = {}
    for r in runs:
        groups.setdefault((r["language"], r["model"], r["arm"]), []).append(r[key])
    rows = []
    for (lang, model, arm), vals in groups.items():
        m, sd = mean_sd(vals)
        rows.append({"language": lang, "model": model, "arm": arm, "n": len(vals), "mean": m, "sd": sd,
                     "values": list(vals)})
    by = {(r["language"], r["model"], r["arm"]): r for r in rows}
    for r in rows:
        base = by.get((r["language"], r["model"], "not adapted"))
        if r["arm"] != "not adapted" and base is not None:
            r["gain"] = r["mean"] - base["mean"]
    return rows


# ---------------------------------------------------------------- the lesson's data and budgets (one place)

#: Continued pre-training budgets, in steps (not seconds). ``live``: what notebook 11 runs each time;
#: ``bench``: what ``benchmarks/domain_adaptation.py`` runs once for the recorded 3-seed table.
ADAPT = {
    "en": {"live": dict(steps=30, batch_size=8, lr=5e-5, max_length=64),
           "bench": dict(steps=150, batch_size=16, lr=5e-5, max_length=64)},
    "ko": {"live": dict(steps=60, batch_size=32, lr=5e-4, max_length=64),
           "bench": dict(steps=600, batch_size=64, lr=5e-4, max_length=64)},
}
N_ADAPT = {"en": 2000, "ko": 20000}     # in-domain reviews for continued pre-training (labels unused)
N_EVAL = {"en": 200, "ko": 500}        # texts per fixed-mask evaluation set
N_LABELS = 500                          # labelled examples for the downstream fine-tuning
N_TEST = {"en": 500, "ko": 1000}
SEEDS = (0, 1, 2)


def finetune_config(lang: str, output_dir: str = "build/runs/11_domain_adaptation"):
    """The downstream recipe of lesson 11 (:class:`course_utils.train.FinetuneConfig`), the same with and
    without adaptation."""
    from .train import FinetuneConfig

    if lang == "en":     # MiniLM stand-in / bert-base-uncased: the 06 stand-in rate, 2 epochs of 500 reviews
        return FinetuneConfig(max_length=64, batch_size=16, learning_rate=1e-4, epochs=2, warmup=0.1,
                              logging_steps=10, output_dir=f"{output_dir}/en")
    if lang == "ko":     # the course's tiny Korean BERT: a higher rate, short reviews
        return FinetuneConfig(max_length=64, batch_size=32, learning_rate=5e-4, epochs=3, warmup=0.1,
                              logging_steps=10, output_dir=f"{output_dir}/ko")
    raise ValueError(f"lang must be 'en' or 'ko', got {lang!r}")


def domain_texts(lang: str) -> dict:
    """The texts of lesson 11 for ``lang`` (labels unused): ``adapt`` (in-domain text for continued
    pre-training), ``in_domain`` (held out, for the fixed-mask score), ``general`` (the control, to see
    forgetting) and a ``describe`` line.

    - ``en``: adapt on IMDB **train** reviews, score on IMDB **test** reviews (never trained on by any
      model of the course), control: the course's general English corpus ``data/corpus/en.txt``.
    - ``ko``: adapt on NSMC **train** reviews (the course model's own training slice), score on its
      held-out NSMC train slice, control: KorNLI XNLI **test** sentences (general, translated text; no
      course model trains on them). NSMC repeats short reviews ("별로"), so held-out reviews that also
      occur in the training slice are left out of the score set.
    """
    from . import data, env

    if lang == "en":
        adapt = [" ".join(data.split_sentences(t)) for t in data.load_imdb("train", n=N_ADAPT["en"], seed=7)["text"]]
        held = [" ".join(data.split_sentences(t)) for t in data.load_imdb("test", n=N_EVAL["en"], seed=1)["text"]]
        general = [s for p in data.read_paragraphs(env.fixtures_dir() / "corpus" / "en.txt") for s in p]
        desc = (f"adapt: {len(adapt):,} IMDB train reviews · in-domain score: {len(held):,} IMDB test reviews · "
                f"general control: {len(general)} sentences of data/corpus/en.txt")
    elif lang == "ko":
        from . import ko_model

        train_slice, heldout = ko_model.nsmc_split()     # the course model's own training slice
        adapt = train_slice[: N_ADAPT["ko"]]
        seen = set(train_slice)     # NSMC repeats short reviews ("별로"): a score text must not be training text
        held = [t for t in heldout if t not in seen][: N_EVAL["ko"]]
        general = ko_model.unique_kornli_sentences("xnli-test")
        general = general[: N_EVAL["ko"]]
        desc = (f"adapt: {len(adapt):,} NSMC train reviews · in-domain score: {len(held):,} held-out NSMC train "
                f"reviews · general control: {len(general):,} KorNLI XNLI-test sentences")
    else:
        raise ValueError(f"lang must be 'en' or 'ko', got {lang!r}")
    return {"adapt": adapt, "in_domain": held, "general": general, "describe": desc}


__all__ = ["classifier_from_mlm", "finetune_few_labels", "mean_sd", "summarise_runs", "ADAPT", "N_ADAPT",
           "N_EVAL", "N_LABELS", "N_TEST", "SEEDS", "finetune_config", "domain_texts"]
