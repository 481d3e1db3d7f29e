"""The offline stand-ins: built once, briefly pretrained, cached as safetensors.

Lessons: every notebook that loads a model offline, through :func:`course_utils.models.load_model`
(which decides *whether* a stand-in is used; this module only builds and locates it).

Built stand-ins are cached under
``env.cache_dir("standins", <stand-in>, "pretraining", "v<STANDIN_VERSION>-<digest>")``; every task
class (``BertModel``, ``BertForMaskedLM`` …) loads from that one checkpoint. The digest covers
:data:`STANDIN_VERSION`, the tokenizer files, the training data source and the step budget, so a
change of any of them builds a new one. The budget is counted in **steps, not seconds**, so the same
machine-independent weights come out on a busy laptop and in CI (:data:`EN_PASSES`,
:data:`EN_HEAD_UPDATES`, :data:`EN_MLM_EPOCHS`, :data:`KO_STEPS`, all multiplied by
``BERT_COURSE_STANDIN_SCALE``, default 1; 0 = no training). The English MLM head is trained by
continued MLM training on the frozen MiniLM (lesson ``11_domain_adaptation``); its build record
(``standin.json``, :func:`built_info`) holds the held-out masked-token accuracy before and after. The Korean stand-ins default to **random init** (``KO_STEPS = 0``): measured here,
a few dozen MLM steps from scratch on 2 CPU cores do not lower the loss measurably, so calling them
"pretrained" would mislead.

The pretraining data are the lesson's own tools: pairs from :func:`course_utils.pretraining.make_nsp_pairs`,
masked by ``transformers.DataCollatorForLanguageModeling`` (as in notebook 02), on the text of
:func:`course_utils.data.standin_paragraphs`.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Optional

from . import env, registry
from .tokenizer_builders import (
    bert_uncased_vocab,
    digest,
    ko_tokenizer_id,
    minilm_id,
    minilm_path,
)

STANDIN_VERSION = "5"           # bump to invalidate every cached stand-in (4: make_nsp_pairs + the MLM collator;
                                # heads seeded, so a build no longer depends on what the process drew before;
                                # 5: the English MLM head is trained by continued MLM (lesson 11), not only fitted)
TRAIN_BUDGET_ENV = "BERT_COURSE_STANDIN_SCALE"   # multiplies the step budgets below (0 = no training)
EN_PASSES = 12                  # frozen-MiniLM forward passes collecting features for the English heads
EN_HEAD_UPDATES = 300           # AdamW updates of the NSP classifier
EN_MLM_PASSES = 1               # frozen-MiniLM passes over the English texts (each a new mask) collecting MLM features
EN_MLM_EPOCHS = 4               # AdamW epochs of continued MLM training of the head over those features (lesson 11)
EN_MLM_LR = 1e-3
EN_MLM_MAX_LEN = 128
EN_HELDOUT = ("test", 200, 1)   # held-out score: IMDB test reviews (split, n, seed), masked once (seed 0)
KO_STEPS = int(os.environ.get("BERT_COURSE_STANDIN_KO_STEPS", "0"))  # Korean MLM(+NSP) steps from scratch
KO_CONFIG = dict(num_hidden_layers=4, hidden_size=256, num_attention_heads=4, intermediate_size=1024,
                 max_position_embeddings=512, type_vocab_size=2)
MAX_LEN = 64                    # tokens per training pair during the brief pretraining
BATCH = 32


def train_scale() -> float:
    """Multiplier of the stand-in step budgets (``BERT_COURSE_STANDIN_SCALE``, default 1, 0 = none)."""
    raw = os.environ.get(TRAIN_BUDGET_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{TRAIN_BUDGET_ENV}={raw!r} is not a number (e.g. 1 or 0.1).") from None
    if not 0 <= value <= 20:
        raise ValueError(f"{TRAIN_BUDGET_ENV}={raw!r}: use 0–20 (0 = random init, no training).")
    return value


def steps_for(standin: str) -> dict:
    """The deterministic step budget of a stand-in build (scaled by ``BERT_COURSE_STANDIN_SCALE``)."""
    scale = train_scale()
    if registry.STANDINS[standin].builder == "minilm-heads":
        passes = int(round(EN_PASSES * scale))
        return {"passes": passes, "head_updates": int(round(EN_HEAD_UPDATES * scale)) if passes else 0,
                "mlm_epochs": max(1, int(round(EN_MLM_EPOCHS * scale))) if passes else 0}
    return {"steps": int(round(KO_STEPS * scale))}


def standin_key(standin: str) -> dict:
    """What a stand-in build depends on; its digest names the cache folder."""
    from .data import standin_texts_id

    key = {"version": STANDIN_VERSION, "standin": standin, "scale": train_scale(),
           "steps": [EN_PASSES, EN_HEAD_UPDATES, KO_STEPS]}
    if registry.STANDINS[standin].builder == "minilm-heads":
        key["mlm_head"] = [EN_MLM_PASSES, EN_MLM_EPOCHS, EN_MLM_LR, EN_MLM_MAX_LEN, list(EN_HELDOUT)]
    if registry.STANDINS[standin].builder == "minilm-heads":
        key.update(encoder=minilm_id(), texts=standin_texts_id("en"), tokenizer=str(bert_uncased_vocab()[1]))
    else:
        key.update(config=KO_CONFIG, texts=standin_texts_id("ko"), tokenizer=ko_tokenizer_id(standin))
    return key


def standin_dir(standin: str) -> Path:
    return env.cache_dir("standins", standin, "pretraining") / f"v{STANDIN_VERSION}-{digest(standin_key(standin))}"


def is_built(folder: Path) -> bool:
    return (folder / "model.safetensors").is_file() and (folder / "standin.json").is_file()


def built_info(standin: str) -> Optional[dict]:
    """The build record (``standin.json``) of ``standin`` under the current key, or ``None`` if not built
    (lesson 11 shows the English stand-in's held-out MLM numbers from it)."""
    folder = standin_dir(standin)
    if not is_built(folder):
        return None
    return json.loads((folder / "standin.json").read_text(encoding="utf-8"))


def standin_weights(standin: str, folder: Optional[Path]) -> str:
    """The weights line of a stand-in: read from a built one, else what a build would give."""
    if folder is not None and is_built(folder):
        info = json.loads((folder / "standin.json").read_text(encoding="utf-8"))
        return info["weights"]
    steps = steps_for(standin)
    if not any(steps.values()):
        return "pretrained encoder; random-init heads (no head training)" \
            if registry.STANDINS[standin].builder == "minilm-heads" else "random init (no pretraining steps)"
    return f"briefly pretrained ({steps}; built on first load)"


def build(standin: str, folder: Path, tok) -> Path:
    """Build, briefly pretrain and save (safetensors) the BertForPreTraining of ``standin``.

    Through :func:`course_utils.cache.publish`: a second process waits for the first build and
    reuses it; the folder appears complete or not at all."""
    from . import cache

    return cache.publish(folder, lambda staging: _train_standin(standin, staging, folder, tok),
                         what=f"the offline stand-in {standin}", valid=is_built,
                         extra_stale=[f"{folder.name}.tmp*"])


# ---------------------------------------------------------------- pretraining batches

def _mlm_nsp_batches(tok, paragraphs: list, n_batches: int, seed: int):
    """``n_batches`` batches ``(masked ids, attention, token types, MLM labels, NSP labels)``: sentence
    pairs of :func:`course_utils.pretraining.make_nsp_pairs`, padded and masked (15 %; 80/10/10) by
    ``DataCollatorForLanguageModeling``."""
    import torch
    from transformers import DataCollatorForLanguageModeling

    from .pretraining import make_nsp_pairs

    pairs = make_nsp_pairs(paragraphs, n=n_batches * BATCH, seed=seed)
    collator = DataCollatorForLanguageModeling(tok, mlm_probability=0.15, seed=seed)
    keep = ("input_ids", "token_type_ids", "attention_mask")
    for start in range(0, len(pairs), BATCH):
        chunk = pairs[start:start + BATCH]
        feats = []
        for p in chunk:
            enc = tok(p["sentence_a"], p["sentence_b"], truncation=True, max_length=MAX_LEN)
            feats.append({k: list(enc[k]) for k in keep if k in enc})
        batch = collator(feats)
        types = batch.get("token_type_ids", torch.zeros_like(batch["input_ids"]))
        yield (batch["input_ids"], batch["attention_mask"], types, batch["labels"],
               torch.tensor([p["label"] for p in chunk]))


def _pretrain(model, tok, paragraphs: list, *, use_nsp: bool, n_steps: int, lr: float, seed: int = 0) -> dict:
    """Brief MLM (+NSP) pretraining of the whole model for ``n_steps`` steps (deterministic). Returns a log."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    model.train()
    losses_mlm, losses_nsp = [], []
    t0 = time.perf_counter()
    for ids, attention, types, labels, nsp in _mlm_nsp_batches(tok, paragraphs, n_steps, seed):
        pos = labels != -100
        out = model.bert(input_ids=ids, attention_mask=attention, token_type_ids=types)
        loss_mlm = F.cross_entropy(model.cls.predictions(out[0][pos]), labels[pos])   # masked positions only
        loss = loss_mlm
        if use_nsp:
            loss_nsp = F.cross_entropy(model.cls.seq_relationship(out[1]), nsp)
            loss = loss + loss_nsp
            losses_nsp.append(loss_nsp.item())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses_mlm.append(loss_mlm.item())
    model.eval()

    def avg(xs, first):
        xs = xs[:10] if first else xs[-10:]
        return round(sum(xs) / len(xs), 3) if xs else None

    return {"steps": len(losses_mlm), "updates": len(losses_mlm), "seconds": round(time.perf_counter() - t0, 1),
            "batch": BATCH, "max_len": MAX_LEN,
            "mlm_loss_first10": avg(losses_mlm, True), "mlm_loss_last10": avg(losses_mlm, False),
            "nsp_loss_first10": avg(losses_nsp, True), "nsp_loss_last10": avg(losses_nsp, False)}


def _masked_features(model, eval_set: dict, batch: int = 32):
    """Frozen-encoder hidden states at the masked positions of a fixed-mask set, and their labels."""
    import torch

    feats, labels = [], []
    with torch.no_grad():
        for start in range(0, len(eval_set["input_ids"]), batch):
            sl = slice(start, start + batch)
            lab = eval_set["labels"][sl]
            width = int(eval_set["attention_mask"][sl].sum(1).max())
            pos = lab[:, :width] != -100
            hidden = model.bert(input_ids=eval_set["input_ids"][sl, :width],
                                attention_mask=eval_set["attention_mask"][sl, :width])[0]
            feats.append(hidden[pos])
            labels.append(lab[:, :width][pos])
    return torch.cat(feats), torch.cat(labels)


def _heldout_texts() -> tuple:
    """``(texts, description)`` of the English stand-in's held-out MLM score (IMDB test reviews; never trained on)."""
    from .data import load_imdb, split_sentences

    split, n, seed = EN_HELDOUT
    try:
        texts = [" ".join(split_sentences(t)) or t for t in load_imdb(split, n=n, seed=seed)["text"]]
    except Exception as exc:  # no IMDB at all: the build still works, without a held-out score
        print(f"[bert-course] stand-in held-out score skipped: IMDB {split} unavailable ({type(exc).__name__}: {exc})")
        return [], "none"
    return texts, f"{len(texts)} IMDB {split} reviews"


def _train_heads_frozen(model, tok, paragraphs: list, n_passes: int, n_updates: int, seed: int = 0,
                        mlm_epochs: int = EN_MLM_EPOCHS) -> dict:
    """English stand-in heads on a frozen MiniLM encoder (only head parameters learn).

    MLM head, by lesson 11's technique (continued MLM training; the encoder frozen, so every other task
    still runs the real MiniLM):

    1. :data:`EN_MLM_PASSES` encoder passes over the texts (course corpus + IMDB train reviews), each
       masked once by :func:`course_utils.lm_training.fixed_mlm_eval_set` with a new seed; the hidden
       states at the masked positions are kept;
    2. closed-form start: ridge regression from those hidden states to the (tied, frozen) word embedding
       of the masked token; the dense bias gets +20 so GELU acts as the identity; LayerNorm's scale is
       picked on the data. (This alone was the head until stand-in version 4: on held-out text it
       hardly beat answering "the".)
    3. ``mlm_epochs`` epochs of AdamW on the head (dense, LayerNorm, output bias; the decoder stays tied
       to the frozen embeddings) over the kept features: the MLM loss itself, on many more tokens.

    The held-out score (IMDB test reviews, masked once with seed 0) is taken after step 2 and after step 3;
    if step 3 made it worse (a few hundred fixture tokens without a mirror), the closed-form head is kept.

    NSP head: ``n_passes`` passes over sentence pairs (IsNext vs NotNext), then ``n_updates`` AdamW steps
    of the classifier on the pooled outputs.
    """
    import torch
    import torch.nn.functional as F

    from . import lm_training

    torch.manual_seed(seed)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    t0 = time.perf_counter()
    texts = [" ".join(p) for p in paragraphs]
    feats, labels = [], []
    for k in range(max(1, EN_MLM_PASSES)):
        masked = lm_training.fixed_mlm_eval_set(tok, texts, max_length=EN_MLM_MAX_LEN, seed=seed + 100 + k)
        h, y = _masked_features(model, masked)
        feats.append(h)
        labels.append(y)
    H, Y = torch.cat(feats), torch.cat(labels)
    held_texts, held_desc = _heldout_texts()
    held = _masked_features(model, lm_training.fixed_mlm_eval_set(tok, held_texts, max_length=EN_MLM_MAX_LEN, seed=0)) \
        if held_texts else None
    head = model.cls.predictions
    emb = model.bert.embeddings.word_embeddings.weight.detach()

    def score(Hs, Ys):
        with torch.no_grad():
            logits = head(Hs)
            return F.cross_entropy(logits, Ys).item(), (logits.argmax(-1) == Ys).float().mean().item()

    # closed-form start: ridge regression h -> E[y]
    Hc = torch.cat([H, torch.ones(len(H), 1)], 1)
    ridge = 10.0
    W = torch.linalg.solve(Hc.T @ Hc + ridge * torch.eye(Hc.shape[1]), Hc.T @ emb[Y])
    with torch.no_grad():
        head.transform.dense.weight.copy_(W[:-1].T)
        head.transform.dense.bias.copy_(W[-1] + 20.0)
        head.transform.LayerNorm.bias.zero_()
        head.bias.zero_()
        best = None
        for scale in (0.5, 1.0, 2.0, 4.0, 8.0, 16.0):
            head.transform.LayerNorm.weight.fill_(scale)
            loss = F.cross_entropy(head(H[:4096]), Y[:4096]).item()
            if best is None or loss < best[1]:
                best = (scale, loss)
        head.transform.LayerNorm.weight.fill_(best[0])
    train_init = score(H, Y)
    held_init = score(*held) if held else (None, None)
    # continued MLM training of the head (dense, LayerNorm, output bias) on the kept features
    params = list(head.transform.parameters()) + [head.bias]
    closed_form = [p.detach().clone() for p in params]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=EN_MLM_LR, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    mlm_updates = 0
    for _ in range(mlm_epochs):
        for idx in torch.randperm(len(H), generator=gen).split(512):
            loss = F.cross_entropy(head(H[idx]), Y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            mlm_updates += 1
    for p in params:
        p.requires_grad_(False)
    train_after = score(H, Y)
    held_after = score(*held) if held else (None, None)
    kept = "trained"
    if held and held_after[0] > held_init[0]:
        # too few tokens to train on (the fixtures without a mirror: a few hundred): the gradient steps
        # made the held-out loss worse, so the closed-form head is kept, and the record says so
        with torch.no_grad():
            for p, v in zip(params, closed_form):
                p.copy_(v)
        kept = "closed-form (training made the held-out loss worse)"
        train_after, held_after = score(H, Y), score(*held)

    # NSP head: pooled outputs of sentence pairs, then AdamW on the small classifier
    pooled, nsp = [], []
    passes = 0
    for ids, attention, types, _lab, y in _mlm_nsp_batches(tok, paragraphs, max(1, n_passes), seed):
        with torch.no_grad():
            out = model.bert(input_ids=ids, attention_mask=attention, token_type_ids=types)
        pooled.append(out[1])
        nsp.append(y)
        passes += 1
    P, N = torch.cat(pooled), torch.cat(nsp)
    with torch.no_grad():
        nsp_init = F.cross_entropy(model.cls.seq_relationship(P), N).item()
    params = list(model.cls.seq_relationship.parameters())
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=1e-2, weight_decay=0.0)
    nsp_loss = nsp_init
    for _ in range(n_updates):
        loss_nsp = F.cross_entropy(model.cls.seq_relationship(P), N)
        opt.zero_grad(set_to_none=True)
        loss_nsp.backward()
        opt.step()
        nsp_loss = loss_nsp.item()
    for p in model.parameters():
        p.requires_grad_(True)
    model.eval()
    r = lambda x: None if x is None else round(x, 4)  # noqa: E731
    heldout = {"texts": held_desc, "n_masked": 0 if held is None else len(held[1]),
               "loss_before": r(held_init[0]), "loss_after": r(held_after[0]),
               "perplexity_before": r(math.exp(held_init[0])) if held else None,
               "perplexity_after": r(math.exp(held_after[0])) if held else None,
               "accuracy_before": r(held_init[1]), "accuracy_after": r(held_after[1])}
    return {"steps": passes, "updates": n_updates, "seconds": round(time.perf_counter() - t0, 1),
            "masked_tokens": len(Y), "pairs": len(N), "ridge": ridge, "ln_scale": best[0],
            "mlm_passes": max(1, EN_MLM_PASSES), "mlm_epochs": mlm_epochs, "mlm_updates": mlm_updates,
            "mlm_lr": EN_MLM_LR, "heldout": heldout, "mlm_head_kept": kept,
            "mlm_loss_first10": round(train_init[0], 3), "mlm_loss_last10": round(train_after[0], 3),
            "nsp_loss_first10": round(nsp_init, 3), "nsp_loss_last10": round(nsp_loss, 3)}


def _train_standin(standin: str, staging: Path, folder: Path, tok) -> Path:
    """The build of :func:`build`, saved into ``staging`` (published as ``folder``)."""
    import torch
    from transformers import BertConfig, BertForPreTraining

    from .data import standin_paragraphs

    st = registry.STANDINS[standin]
    steps = steps_for(standin)
    t_start = time.perf_counter()
    plan = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in steps.items()) if any(steps.values()) else "random init"
    print(f"[bert-course] building offline stand-in {standin} ({plan}; once, cached in {folder})")
    what = "MLM + NSP" if st.nsp else "MLM"
    torch.manual_seed(0)        # the heads MiniLM lacks are initialised from torch's global generator
    if st.builder == "minilm-heads":
        model = BertForPreTraining.from_pretrained(str(minilm_path()), local_files_only=True,
                                                   use_safetensors=True)
        decoder = model.cls.predictions.decoder.weight
        if decoder.data_ptr() != model.bert.embeddings.word_embeddings.weight.data_ptr():
            model.cls.predictions.decoder.weight = model.bert.embeddings.word_embeddings.weight
        paragraphs, source = standin_paragraphs("en")
        log = _train_heads_frozen(model, tok, paragraphs, steps["passes"], steps["head_updates"],
                                  mlm_epochs=steps["mlm_epochs"]) \
            if steps["passes"] > 0 else {"steps": 0, "seconds": 0.0}
    else:
        config = BertConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id, **KO_CONFIG)
        model = BertForPreTraining(config)
        paragraphs, source = standin_paragraphs("ko") if steps["steps"] else (None, "no data (random init)")
        log = _pretrain(model, tok, paragraphs, use_nsp=st.nsp, n_steps=steps["steps"], lr=1e-3) \
            if steps["steps"] > 0 else {"steps": 0, "seconds": 0.0}
    if log["steps"] == 0:
        weights = ("pretrained encoder; random-init heads" if st.builder == "minilm-heads" else
                   "random init (seeded; no pretraining: its outputs carry no knowledge of Korean)")
    elif st.builder == "minilm-heads":
        ho = log["heldout"]
        held = (f"; held-out masked-token accuracy {ho['accuracy_before']}→{ho['accuracy_after']} on {ho['texts']}"
                if ho["accuracy_after"] is not None else "")
        weights = (f"pretrained encoder (frozen); {what} heads trained in {log['seconds']} s: MLM head by continued MLM "
                   f"training (lesson 11) on {log['masked_tokens']} masked tokens ({log['mlm_passes']} encoder pass, "
                   f"ridge-regression start + {log['mlm_updates']} AdamW updates; MLM loss {log['mlm_loss_first10']}→"
                   f"{log['mlm_loss_last10']}{held}; head kept: {log['mlm_head_kept']}); NSP classifier {log['updates']} AdamW updates on {log['pairs']} "
                   f"pairs (NSP loss {log['nsp_loss_first10']}→{log['nsp_loss_last10']}); data {source}")
    elif (log["mlm_loss_first10"] or 0) - (log["mlm_loss_last10"] or 0) < 0.5:
        weights = (f"random init in effect: {log['steps']} {what} steps ({log['seconds']} s), MLM loss "
                   f"{log['mlm_loss_first10']}→{log['mlm_loss_last10']} (no real learning); data {source}. "
                   "Use BERT_COURSE_PROFILE=full for real BERT")
    else:
        weights = (f"briefly pretrained from scratch: {what}, {log['steps']} steps × {BATCH} × ≤{MAX_LEN} tokens, "
                   f"{log['seconds']} s (MLM loss {log['mlm_loss_first10']}→{log['mlm_loss_last10']}"
                   + (f", NSP loss {log['nsp_loss_first10']}→{log['nsp_loss_last10']}" if st.nsp else "")
                   + f") on {source}; far from a real BERT")
    model.save_pretrained(str(staging))      # transformers 5: always model.safetensors
    info = {"standin": standin, "version": STANDIN_VERSION, "key": standin_key(standin), "weights": weights,
            "training": log, "data": source, "build_s": round(time.perf_counter() - t_start, 1)}
    (staging / "standin.json").write_text(json.dumps(info, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    print(f"[bert-course] stand-in {standin} built in {info['build_s']} s: {weights}")
    return folder


__all__ = ["STANDIN_VERSION", "TRAIN_BUDGET_ENV", "EN_PASSES", "EN_HEAD_UPDATES", "KO_STEPS", "KO_CONFIG",
           "EN_MLM_PASSES", "EN_MLM_EPOCHS", "EN_MLM_LR", "EN_MLM_MAX_LEN", "EN_HELDOUT",
           "train_scale", "steps_for", "standin_key", "standin_dir", "is_built", "built_info", "standin_weights", "build"]
