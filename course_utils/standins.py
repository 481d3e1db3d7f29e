"""The offline stand-ins: built once, briefly pretrained, cached as safetensors.

Lessons: every notebook that loads a model offline, through :func:`course_utils.models.load_model`
(which decides *whether* a stand-in is used; this module only builds and locates it).

Built stand-ins are cached under
``env.cache_dir("standins", <stand-in>, "pretraining", "v<STANDIN_VERSION>-<digest>")``; every task
class (``BertModel``, ``BertForMaskedLM`` …) loads from that one checkpoint. The digest covers
:data:`STANDIN_VERSION`, the tokenizer files, the training data source and the step budget, so a
change of any of them builds a new one. The budget is counted in **steps, not seconds**, so the same
machine-independent weights come out on a busy laptop and in CI (:data:`EN_PASSES`,
:data:`EN_HEAD_UPDATES`, :data:`KO_STEPS`, all multiplied by ``BERT_COURSE_STANDIN_SCALE``, default 1;
0 = no training). The Korean stand-ins default to **random init** (``KO_STEPS = 0``): measured here,
a few dozen MLM steps from scratch on 2 CPU cores do not lower the loss measurably, so calling them
"pretrained" would mislead.

The pretraining data are the lesson's own tools: pairs from :func:`course_utils.pretraining.make_nsp_pairs`,
masked by ``transformers.DataCollatorForLanguageModeling`` (as in notebook 02), on the text of
:func:`course_utils.data.standin_paragraphs`.
"""
from __future__ import annotations

import json
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

STANDIN_VERSION = "4"           # bump to invalidate every cached stand-in (4: make_nsp_pairs + the MLM collator;
                                # heads seeded, so a build no longer depends on what the process drew before)
TRAIN_BUDGET_ENV = "BERT_COURSE_STANDIN_SCALE"   # multiplies the step budgets below (0 = no training)
EN_PASSES = 12                  # frozen-MiniLM forward passes collecting features for the English heads
EN_HEAD_UPDATES = 300           # AdamW updates of the NSP classifier (the MLM head is fitted in closed form)
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
        return {"passes": passes, "head_updates": int(round(EN_HEAD_UPDATES * scale)) if passes else 0}
    return {"steps": int(round(KO_STEPS * scale))}


def standin_key(standin: str) -> dict:
    """What a stand-in build depends on; its digest names the cache folder."""
    from .data import standin_texts_id

    key = {"version": STANDIN_VERSION, "standin": standin, "scale": train_scale(),
           "steps": [EN_PASSES, EN_HEAD_UPDATES, KO_STEPS]}
    if registry.STANDINS[standin].builder == "minilm-heads":
        key.update(encoder=minilm_id(), texts=standin_texts_id("en"), tokenizer=str(bert_uncased_vocab()[1]))
    else:
        key.update(config=KO_CONFIG, texts=standin_texts_id("ko"), tokenizer=ko_tokenizer_id(standin))
    return key


def standin_dir(standin: str) -> Path:
    return env.cache_dir("standins", standin, "pretraining") / f"v{STANDIN_VERSION}-{digest(standin_key(standin))}"


def is_built(folder: Path) -> bool:
    return (folder / "model.safetensors").is_file() and (folder / "standin.json").is_file()


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


def _train_heads_frozen(model, tok, paragraphs: list, n_passes: int, n_updates: int, seed: int = 0) -> dict:
    """English stand-in heads on a frozen MiniLM encoder (only new head parameters learn).

    1. ``n_passes`` encoder passes over masked sentence pairs (IsNext vs NotNext), keeping the
       hidden states at the masked positions and the pooled outputs.
    2. MLM transform initialised in closed form: ridge regression from the hidden state at a
       masked position to the (tied, frozen) word embedding of the masked token; the dense bias
       gets +20 so GELU acts as the identity, LayerNorm's scale is picked on the collected data.
    3. ``n_updates`` steps of AdamW on the NSP classifier over the collected pooled outputs.
    """
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    feats, labels, pooled, nsp = [], [], [], []
    t0 = time.perf_counter()
    passes = 0
    for ids, attention, types, lab, y in _mlm_nsp_batches(tok, paragraphs, max(1, n_passes), seed):
        with torch.no_grad():
            out = model.bert(input_ids=ids, attention_mask=attention, token_type_ids=types)
        pos = lab != -100
        feats.append(out[0][pos])
        labels.append(lab[pos])
        pooled.append(out[1])
        nsp.append(y)
        passes += 1
    H, Y, P, N = torch.cat(feats), torch.cat(labels), torch.cat(pooled), torch.cat(nsp)
    head = model.cls.predictions
    emb = model.bert.embeddings.word_embeddings.weight.detach()
    # closed-form ridge regression h -> E[y]
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
            loss = F.cross_entropy(head(H), Y).item()
            if best is None or loss < best[1]:
                best = (scale, loss)
        head.transform.LayerNorm.weight.fill_(best[0])
        nsp_init = F.cross_entropy(model.cls.seq_relationship(P), N).item()
    # The MLM head keeps its closed-form fit (gradient steps on it made the loss worse, measured
    # 4.10→4.57); only the small NSP classifier is trained by AdamW on the pooled vectors (cheap).
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
    return {"steps": passes, "updates": n_updates, "seconds": round(time.perf_counter() - t0, 1),
            "masked_tokens": len(Y), "pairs": len(N), "ridge": ridge, "ln_scale": best[0],
            "mlm_loss_first10": round(best[1], 3), "mlm_loss_last10": round(best[1], 3),
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
        log = _train_heads_frozen(model, tok, paragraphs, steps["passes"], steps["head_updates"]) \
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
        weights = (f"pretrained encoder; {what} heads fitted in {log['seconds']} s ({log['steps']} encoder passes → "
                   f"{log['masked_tokens']} masked tokens, {log['pairs']} NSP pairs; ridge-regression init to the tied "
                   f"embeddings + {log['updates']} AdamW head updates; encoder frozen; MLM loss after init {log['mlm_loss_first10']}→{log['mlm_loss_last10']}, "
                   f"NSP loss {log['nsp_loss_first10']}→{log['nsp_loss_last10']}) on {source}")
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
           "train_scale", "steps_for", "standin_key", "standin_dir", "is_built", "standin_weights", "build"]
