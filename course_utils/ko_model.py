"""The course's own Korean BERT: a WordPiece vocab and a tiny BERT pre-trained from scratch on a CPU.

Lesson: ``10_inside_bert_and_pretraining`` (the tiny pre-training is this recipe at a small budget;
the cached model is the same code with :data:`RECIPE`'s budget). Training and scoring are
:mod:`course_utils.lm_training`; the vocab trainer is :mod:`course_utils.wordpiece` (deterministic).

Data (never NSMC **test** text, and never KorNLI XNLI **test** text: both are evaluation sets of the
course, and a vocabulary or a language model trained on them has seen the test set — leakage):

- NSMC ``train`` reviews (150,000 with the mirror; the 199-row fixture without it), minus a held-out
  slice (every :data:`HELDOUT_EVERY`-th review) used only to score the masked LM;
- KorNLI XNLI ``dev`` premises and hypotheses (each unique sentence once).

NSP: NSMC reviews are short (22 characters on average) and KorNLI premise/hypothesis pairs are not
consecutive sentences, so the recipe is **MLM only**; the NSP head of the saved
``BertForPreTraining`` stays at its (seeded) random init, and the model card says so.

Measured (2026-12-02, mirror; ``benchmarks/README.md``): built in 247 s on 2 idle cores (vocab 20 s, 1,500
steps 208 s), 1.85M tokens; held-out masked-token accuracy 0.150 vs 0.084 for the most frequent token
(``.``; with KoBERT's vocabulary the same recipe reaches 3.9x its baseline), loss 6.90 vs 7.49 for the
unigram distribution; fine-tuned on 2,000 NSMC reviews it reaches 0.661 ± 0.003 against 0.708 ± 0.009 for random
init (3 seeds), so it does **not** replace the random-init offline stand-ins.

Built once (``course_utils.cache.publish``) under ``env.cache_dir("course-ko-bert", <digest>)``; the
digest covers :data:`RECIPE`, the data sources and the vocab trainer, so changing any of them
builds a new model.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

HELDOUT_EVERY = 50              # every 50th NSMC train review is held out for the MLM score (3,000 of 150,000)
FIXTURE_HELDOUT_EVERY = 4       # without the mirror: every 4th of the ~200 fixture reviews (else only 4 held out)


def heldout_every() -> int:
    from . import data

    return HELDOUT_EVERY if data.is_real("nsmc/train") else FIXTURE_HELDOUT_EVERY
RECIPE_VERSION = "1"
RECIPE = dict(
    vocab_size=8000,            # WordPiece from NSMC train + KorNLI dev text
    # BERT-Tiny's shape (Turc et al. 2019): 2 layers, hidden 128. Measured here: 4.2x the tokens/s of
    # 4 layers x 256, which buys more tokens in the same minutes (the reference run used 4 x 256)
    model=dict(num_hidden_layers=2, hidden_size=128, num_attention_heads=2, intermediate_size=512,
               max_position_embeddings=128, type_vocab_size=2),
    steps=1500, batch_size=64, lr=2e-3, warmup=0.06, max_length=64, seed=0, pack=False,
)
FIXTURE_STEPS = 300             # without the mirror there are ~300 fixture texts: 300 steps are ~60 epochs of them


def recipe() -> dict:
    """:data:`RECIPE`, with :data:`FIXTURE_STEPS` when NSMC is only the course fixture (no mirror)."""
    from . import data

    return RECIPE if data.is_real("nsmc/train") else {**RECIPE, "steps": FIXTURE_STEPS}


def nsmc_split() -> tuple:
    """``(train, heldout)`` NSMC train reviews: the one definition of the slice the course model trains on
    and the slice held out for scoring it (every :func:`heldout_every`-th review). Lessons 10 and 11."""
    from . import data

    nsmc = [t for t in data.load_nsmc("train")["text"] if isinstance(t, str) and t.strip()]
    every = heldout_every()
    return ([t for i, t in enumerate(nsmc) if i % every != 0], [t for i, t in enumerate(nsmc) if i % every == 0])


def unique_kornli_sentences(split: str) -> list:
    """Premises then hypotheses of a KorNLI split, each distinct non-empty sentence once, in order."""
    from . import data

    kornli = data.load_kornli(split)
    return list(dict.fromkeys(s for s in list(kornli["premise"]) + list(kornli["hypothesis"])
                              if isinstance(s, str) and s.strip()))


def corpus(heldout: bool = False) -> tuple:
    """``(texts, description)``: NSMC train reviews (not the held-out slice) + unique KorNLI dev sentences;
    with ``heldout=True`` the held-out NSMC reviews instead (for scoring)."""
    from . import data

    train, held = nsmc_split()
    every = heldout_every()
    if heldout:
        return held, f"{len(held):,} held-out NSMC train reviews (every {every}th)"
    sents = unique_kornli_sentences("xnli-dev")
    real = data.is_real("nsmc/train")
    desc = (f"{len(train):,} NSMC train reviews{'' if real else ' (course fixture)'} + "
            f"{len(sents):,} KorNLI XNLI-dev sentences{'' if data.is_real('kornli/xnli-dev') else ' (fixture)'}")
    return train + sents, desc


def vocab_file(texts, vocab_size: int, folder: Path) -> Path:
    """Train the WordPiece vocab (course_utils.wordpiece, deterministic) into ``folder/vocab.txt``."""
    from .wordpiece import train_wordpiece_vocab, write_vocab

    folder.mkdir(parents=True, exist_ok=True)
    vocab = train_wordpiece_vocab(texts, vocab_size=vocab_size, min_frequency=2, limit_alphabet=1500)
    write_vocab(vocab, folder / "vocab.txt")
    return folder / "vocab.txt"


def tokenizer_from(vocab: Path):
    from .tokenizer_builders import bert_tokenizer

    return bert_tokenizer(vocab, lower=False)


def key() -> dict:
    from . import data
    from .tokenizer_builders import digest

    return {"version": RECIPE_VERSION, "recipe": recipe(), "heldout_every": heldout_every(),
            "nsmc": data.standin_texts_id("ko"), "real_nsmc": data.is_real("nsmc/train"),
            "real_kornli": data.is_real("kornli/xnli-dev"), "digest_of": "recipe+data",
            "trainer": digest(Path(__file__).with_name("wordpiece.py").read_text(encoding="utf-8"))}


def folder() -> Path:
    from . import env
    from .tokenizer_builders import digest

    return env.cache_dir("course-ko-bert") / f"v{RECIPE_VERSION}-{digest(key())}"


def is_built(path: Path) -> bool:
    return (path / "model.safetensors").is_file() and (path / "course_model.json").is_file()


def info(path: Optional[Path] = None) -> Optional[dict]:
    """The build record (steps, tokens, seconds, scores) of the cached model, or None if not built."""
    path = path or folder()
    return json.loads((path / "course_model.json").read_text(encoding="utf-8")) if is_built(path) else None


def banner(record: dict) -> str:
    return (f"pre-trained by this course for {record['steps']:,} steps on {record['tokens_seen'] / 1e6:.2f}M tokens "
            f"of NSMC train + KorNLI text (MLM only; held-out masked-token accuracy {record['heldout']['accuracy']:.3f} "
            f"vs most-frequent-token baseline {record['baselines']['most_frequent']:.3f})")


def build(progress: bool = True) -> Path:
    """Build the course's Korean model once (cached, atomic across processes); returns its folder."""
    from . import cache

    return cache.publish(folder(), lambda staging: _build(staging, progress), what="the course's Korean BERT",
                         valid=is_built)


def load(task: str = "mlm", *, num_labels: int = 2, id2label: Optional[dict] = None, progress: bool = True):
    """``(model, tokenizer)`` of the course's Korean BERT (built on first use, then cached; eval mode).

    ``task``: ``mlm`` (BertForMaskedLM), ``pretraining`` (BertForPreTraining; its NSP head is untrained),
    ``base`` (BertModel) or ``seqcls`` (BertForSequenceClassification, new classifier head)."""
    import transformers

    classes = {"mlm": "BertForMaskedLM", "pretraining": "BertForPreTraining", "base": "BertModel",
               "seqcls": "BertForSequenceClassification"}
    if task not in classes:
        raise ValueError(f"ko_model.load: task must be one of {sorted(classes)}, got {task!r}.")
    path = build(progress=progress)
    kwargs: dict = {}
    if task == "seqcls":
        kwargs["num_labels"] = num_labels
        if id2label:
            kwargs.update(id2label=id2label, label2id={v: k for k, v in id2label.items()})
    model = getattr(transformers, classes[task]).from_pretrained(str(path), local_files_only=True,
                                                                 use_safetensors=True, **kwargs).eval()
    from . import env

    env.record_source("model", "course-ko-bert", "cache", str(path), banner(info(path)))
    return model, tokenizer_from(path / "vocab.txt")


def train(recipe: dict, texts, tokenizer, progress: bool = True, heldout_texts=None) -> tuple:
    """``(model, record)``: a fresh tiny BERT pre-trained with ``recipe`` on ``texts`` (lm_training.train_mlm)."""
    from . import lm_training as lm

    model = lm.new_tiny_bert(tokenizer, nsp=True, seed=recipe["seed"], **recipe["model"])
    log = lm.train_mlm(model, tokenizer, texts, steps=recipe["steps"], batch_size=recipe["batch_size"],
                       lr=recipe["lr"], seed=recipe["seed"], max_length=recipe["max_length"],
                       warmup=recipe["warmup"], pack=recipe.get("pack", False), progress=progress,
                       log_every=max(1, recipe["steps"] // 20))
    record = {"steps": recipe["steps"], "tokens_seen": log["tokens_seen"], "seconds": round(log["seconds"], 1),
              "tokens_per_s": round(log["tokens_per_s"], 1), "log": log["log"], "recipe": recipe}
    if heldout_texts:
        ev = lm.fixed_mlm_eval_set(tokenizer, heldout_texts, max_length=recipe["max_length"], seed=0)
        record["heldout"] = lm.evaluate_mlm(model, ev)
        record["baselines"] = lm.frequency_baselines(ev, lm.token_counts(tokenizer, texts, recipe["max_length"]))
    return model, record


def _build(staging: Path, progress: bool) -> None:
    t0 = time.perf_counter()
    texts, desc = corpus()
    held, held_desc = corpus(heldout=True)
    staging.mkdir()
    tok = tokenizer_from(vocab_file(texts, RECIPE["vocab_size"], staging))
    t_vocab = time.perf_counter() - t0
    rec = recipe()
    print(f"[bert-course] building the course's Korean BERT ({rec['steps']} MLM steps on {desc}; once, cached)")
    model, record = train(rec, texts, tok, progress=progress, heldout_texts=held)
    model.save_pretrained(staging, safe_serialization=True)
    tok.save_pretrained(staging)
    record.update(data=desc, heldout_data=held_desc, vocab_seconds=round(t_vocab, 1),
                  build_seconds=round(time.perf_counter() - t0, 1), vocab_size=len(tok), nsp="not trained (random init)")
    record["banner"] = banner(record)
    (staging / "course_model.json").write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")


__all__ = ["RECIPE", "recipe", "FIXTURE_STEPS", "corpus", "build", "load", "train", "folder", "info", "banner", "is_built", "tokenizer_from"]
