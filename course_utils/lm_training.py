"""Masked-LM training and evaluation: one implementation for notebooks 10, 11 and 13.

Lessons: ``10_inside_bert_and_pretraining`` (a tiny Korean BERT pre-trained from scratch, scored
against frequency baselines), ``11_domain_adaptation`` (continued MLM pre-training, perplexity
before/after) and later lessons that score a masked LM.

**The course's own Korean model** (the
loader for other notebooks): ``model, tok = course_utils.ko_model.load("mlm")`` (tasks ``mlm``,
``pretraining``, ``base``, ``seqcls``); built on first use with :func:`train_mlm` and cached
(:func:`course_utils.ko_model.build`; recipe, data and numbers in that module and its
``course_model.json``). It is **not** the offline Korean stand-in of ``models.load_model``: fine-tuned
on NSMC it did worse than a random-init model of the same shape (0.661 vs 0.708, 3 seeds;
``benchmarks/README.md``), and the issue asks for the swap only where it measurably does better.

Contract (used by other notebooks; keep the signatures):

- :func:`fixed_mlm_eval_set` masks a held-out set **once** with a fixed seed (through
  ``DataCollatorForLanguageModeling``), so every model is scored on the same positions. The
  Hugging Face course chapter "Fine-tuning a masked language model" re-masks at random on every
  evaluation, so its perplexities move between runs; here they do not.
- :func:`evaluate_mlm` → ``loss`` (mean cross-entropy over the masked positions only), ``perplexity``
  (``exp(loss)``), ``accuracy`` (top-1 at the masked positions), ``n_masked``.
- :func:`frequency_baselines` → the accuracy of always predicting the most frequent token, and of
  drawing from the unigram distribution (plus that distribution's cross-entropy, the loss a model
  that ignores context would reach).
- :func:`train_mlm` → MLM (+ NSP) training with **dynamic** masking (a new mask every step, as in
  RoBERTa), a **step budget** (so the weights are the same on a slow and a fast machine), a tqdm bar,
  deterministic for a seed.

Padding and unmasked positions carry the label ``-100`` and never enter the loss (tests/test_lm_training.py
checks it; d2l-en issue #2582 is what happens otherwise).
"""
from __future__ import annotations

import collections
import math
import random
import time
from typing import Iterable, Optional, Sequence

IGNORE_INDEX = -100


# ---------------------------------------------------------------- data preparation

def _flatten(texts_or_paragraphs) -> list:
    """Strings from a list of strings or a list of paragraphs (lists of sentences, joined by a space)."""
    out = []
    for item in texts_or_paragraphs:
        if isinstance(item, str):
            if item.strip():
                out.append(item)
        else:
            joined = " ".join(s for s in item if isinstance(s, str))
            if joined.strip():
                out.append(joined)
    return out


def _encode(tokenizer, texts: Sequence[str], max_length: int) -> list:
    enc = tokenizer(list(texts), truncation=True, max_length=max_length)
    return [list(ids) for ids in enc["input_ids"]]


def _pad(tokenizer, id_lists, type_lists=None, width: Optional[int] = None) -> dict:
    import torch

    width = width or max(len(x) for x in id_lists)
    pad = tokenizer.pad_token_id
    ids = torch.full((len(id_lists), width), pad, dtype=torch.long)
    attn = torch.zeros((len(id_lists), width), dtype=torch.long)
    types = torch.zeros((len(id_lists), width), dtype=torch.long)
    for i, x in enumerate(id_lists):
        ids[i, :len(x)] = torch.tensor(x, dtype=torch.long)
        attn[i, :len(x)] = 1
        if type_lists is not None:
            types[i, :len(x)] = torch.tensor(type_lists[i], dtype=torch.long)
    return {"input_ids": ids, "attention_mask": attn, "token_type_ids": types}


def _mask(tokenizer, batch: dict, mlm_probability: float, generator) -> dict:
    """Mask ``batch`` (80 % [MASK] / 10 % random / 10 % kept) with ``DataCollatorForLanguageModeling``'s
    own rule, drawing from ``generator``; special tokens and padding are never selected."""
    from transformers import DataCollatorForLanguageModeling

    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=mlm_probability)
    collator.generator = generator          # the collator's seeded generator: we keep one across calls
    special = _special_mask(tokenizer, batch["input_ids"])
    ids, labels = collator.torch_mask_tokens(batch["input_ids"].clone(), special_tokens_mask=special)
    return {**batch, "input_ids": ids, "labels": labels}


def _special_mask(tokenizer, ids):
    import torch

    special = torch.tensor(sorted(set(tokenizer.all_special_ids)), dtype=torch.long)
    return torch.isin(ids, special)


def fixed_mlm_eval_set(tokenizer, texts, *, max_length: int = 128, mlm_probability: float = 0.15,
                       seed: int = 0) -> dict:
    """A held-out MLM set masked **once**: tensors ``input_ids, attention_mask, token_type_ids, labels``
    (labels ``-100`` except at the selected positions) and ``special_ids`` (the tokenizer's special ids,
    which :func:`frequency_baselines` leaves out of its counts).

    All texts are padded to one width and masked in one call of ``DataCollatorForLanguageModeling``'s
    masking with ``torch.Generator().manual_seed(seed)``: same texts + tokenizer + seed → same
    positions, whatever batch size a model is later scored with. Lesson 10/11.
    """
    import torch

    texts = _flatten(texts)
    if not texts:
        raise ValueError("fixed_mlm_eval_set: no non-empty text.")
    batch = _pad(tokenizer, _encode(tokenizer, texts, max_length))
    gen = torch.Generator().manual_seed(seed)
    out = _mask(tokenizer, batch, mlm_probability, gen)
    if int((out["labels"] != IGNORE_INDEX).sum()) == 0:
        raise ValueError("fixed_mlm_eval_set: no position was masked; use more or longer texts.")
    out["special_ids"] = torch.tensor(sorted(set(tokenizer.all_special_ids)), dtype=torch.long)
    return out


# ---------------------------------------------------------------- evaluation

def _mlm_head(model):
    """``(encoder, head)``: the BertModel and the module mapping hidden states to vocabulary logits,
    so the head runs on the masked positions only (the decoder is the largest matrix of a tiny BERT)."""
    cls = getattr(model, "cls", None)
    if cls is not None and hasattr(cls, "predictions"):
        return model.base_model, cls.predictions
    raise TypeError(f"{type(model).__name__} has no BERT MLM head (use BertForMaskedLM or BertForPreTraining).")


def evaluate_mlm(model, eval_set: dict, batch_size: int = 32) -> dict:
    """``loss`` (mean cross-entropy over masked positions only), ``perplexity`` = exp(loss),
    ``accuracy`` (top-1 at masked positions) and ``n_masked`` on a :func:`fixed_mlm_eval_set`."""
    import torch
    import torch.nn.functional as F

    encoder, head = _mlm_head(model)
    was_training = model.training
    model.eval()
    total_loss, correct, n = 0.0, 0, 0
    device = next(model.parameters()).device
    with torch.no_grad():
        for start in range(0, len(eval_set["input_ids"]), batch_size):
            sl = slice(start, start + batch_size)
            labels = eval_set["labels"][sl].to(device)
            pos = labels != IGNORE_INDEX
            if not pos.any():
                continue
            attn = eval_set["attention_mask"][sl].to(device)
            width = int(attn.sum(1).max())                      # drop all-padding columns (same result, faster)
            kwargs = {"input_ids": eval_set["input_ids"][sl, :width].to(device), "attention_mask": attn[:, :width]}
            if "token_type_ids" in eval_set:
                kwargs["token_type_ids"] = eval_set["token_type_ids"][sl, :width].to(device)
            hidden = encoder(**kwargs)[0]
            logits = head(hidden[pos[:, :width]]).float()
            target = labels[:, :width][pos[:, :width]]
            total_loss += F.cross_entropy(logits, target, reduction="sum").item()
            correct += int((logits.argmax(-1) == target).sum())
            n += int(target.numel())
    if was_training:
        model.train()
    if n == 0:
        raise ValueError("evaluate_mlm: the eval set has no masked position.")
    loss = total_loss / n
    return {"loss": loss, "perplexity": math.exp(loss), "accuracy": correct / n, "n_masked": n}


def token_counts(tokenizer, texts, max_length: int = 128) -> collections.Counter:
    """Token-id counts of ``texts`` (special tokens left out): the ``train_ids_or_counts`` of
    :func:`frequency_baselines`."""
    special = set(tokenizer.all_special_ids)
    counts: collections.Counter = collections.Counter()
    for ids in _encode(tokenizer, _flatten(texts), max_length):
        counts.update(i for i in ids if i not in special)
    return counts


def frequency_baselines(eval_set: dict, train_ids_or_counts) -> dict:
    """Context-free baselines on the masked positions of ``eval_set`` (lesson 10).

    ``train_ids_or_counts``: a ``{token_id: count}`` mapping (e.g. :func:`token_counts` of the training
    texts), or token ids (a flat or nested list / a tensor). Special ids (``eval_set["special_ids"]``)
    are left out. Returns ``most_frequent`` (accuracy of always answering the most frequent training
    token), ``unigram`` (expected accuracy of answering a token drawn from the training unigram
    distribution), ``unigram_loss`` (its cross-entropy, add-one smoothed over the vocabulary seen)
    and ``most_frequent_id``.
    """
    import torch

    if isinstance(train_ids_or_counts, collections.abc.Mapping):
        counts = collections.Counter({int(k): int(v) for k, v in train_ids_or_counts.items()})
    else:
        flat = torch.as_tensor(train_ids_or_counts) if not isinstance(train_ids_or_counts, list) \
            or not train_ids_or_counts or not isinstance(train_ids_or_counts[0], (list, tuple)) \
            else torch.tensor([i for row in train_ids_or_counts for i in row])
        counts = collections.Counter(torch.as_tensor(flat).flatten().tolist())
    for s in eval_set.get("special_ids", torch.tensor([])).tolist():
        counts.pop(int(s), None)
    counts.pop(IGNORE_INDEX, None)
    if not counts:
        raise ValueError("frequency_baselines: no (non-special) training token.")
    labels = eval_set["labels"][eval_set["labels"] != IGNORE_INDEX].tolist()
    total = sum(counts.values())
    top = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0]
    vocab = len(counts) + 1                                      # + one bucket for unseen tokens
    most = sum(1 for y in labels if y == top) / len(labels)
    uni = sum(counts.get(y, 0) for y in labels) / total / len(labels)
    loss = -sum(math.log((counts.get(y, 0) + 1) / (total + vocab)) for y in labels) / len(labels)
    return {"most_frequent": most, "unigram": uni, "unigram_loss": loss, "most_frequent_id": top}


# ---------------------------------------------------------------- training

def _examples(tokenizer, texts_or_paragraphs, *, max_length: int, nsp: bool, pack: bool, n_pairs: int,
              seed: int) -> list:
    """Training examples ``(ids, token_types, nsp_label)`` (nsp_label ``None`` without NSP)."""
    if nsp:
        from .pretraining import make_nsp_pairs

        paragraphs = [p for p in texts_or_paragraphs if not isinstance(p, str)]
        if not paragraphs:
            raise ValueError("train_mlm(nsp=True) needs paragraphs (lists of consecutive sentences).")
        pairs = make_nsp_pairs(paragraphs, n=n_pairs, seed=seed)
        enc = tokenizer([p["sentence_a"] for p in pairs], [p["sentence_b"] for p in pairs],
                        truncation=True, max_length=max_length)
        types = enc.get("token_type_ids") or [[0] * len(x) for x in enc["input_ids"]]
        return [(list(i), list(t), p["label"]) for i, t, p in zip(enc["input_ids"], types, pairs)]
    ids = _encode(tokenizer, _flatten(texts_or_paragraphs), max_length)
    if not pack:
        return [(x, [0] * len(x), None) for x in ids]
    # RoBERTa's FULL-SENTENCES packing: texts back to back ([SEP] between), cut into max_length blocks
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    body = max_length - 2
    stream: list = []
    for x in ids:
        stream.extend(x[1:])                       # drop [CLS], keep the text's closing [SEP]
    blocks = [[cls] + stream[i:i + body] + ([sep] if stream[i:i + body][-1:] != [sep] else [])
              for i in range(0, len(stream), body)]
    return [(b, [0] * len(b), None) for b in blocks if len(b) > 2]


def draw_examples(examples: Sequence, order: list, rng, batch_size: int) -> list:
    """The next ``batch_size`` examples of an endless shuffled walk over ``examples``.

    ``order`` is the walk's state (a list the caller keeps, empty at the start): when it runs out, a new
    shuffled pass over all indices begins, so every example is seen once per pass. Shared by
    :func:`train_mlm` and :func:`course_utils.electra.train_rtd` (lessons 10 and 13).
    """
    batch = []
    while len(batch) < batch_size:
        if not order:
            order.extend(range(len(examples)))
            rng.shuffle(order)
        batch.append(examples[order.pop()])
    return batch


def adamw_linear_schedule(params, *, lr: float, weight_decay: float, warmup: float, steps: int) -> tuple:
    """``(optimizer, scheduler)`` of the pre-training loops: AdamW with weight decay on matrices only (not on
    biases and LayerNorm weights), linear warm-up over ``warmup`` × ``steps``, then linear decay to 0."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    params = list(params)
    opt = torch.optim.AdamW([{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
                             {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}], lr=lr)
    return opt, get_linear_schedule_with_warmup(opt, int(round(warmup * steps)), max(steps, 1))


def optimizer_step(loss, opt, scaler, params, max_norm: Optional[float] = 1.0) -> None:
    """One update: backward (scaled when ``scaler`` is enabled), unscale, clip the gradient norm at
    ``max_norm`` (``None``: no clipping), step (skipped by the scaler on inf/NaN gradients), update the scale."""
    import torch

    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if max_norm is not None:
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(params, max_norm)
    scaler.step(opt)
    scaler.update()


def train_mlm(model, tokenizer, texts_or_paragraphs, *, steps: int, batch_size: int, lr: float, seed: int = 0,
              max_length: int = 128, nsp: bool = False, warmup: float = 0.06, progress: bool = True,
              log_every: int = 50, pack: bool = False, weight_decay: float = 0.01, mlm_probability: float = 0.15,
              freeze: Iterable[str] = ()) -> dict:
    """Pre-train (or continue pre-training) ``model`` with masked LM (+ NSP) for exactly ``steps`` steps.

    - ``texts_or_paragraphs``: strings, or paragraphs (lists of consecutive sentences; joined for MLM
      only, cut into IsNext/NotNext pairs by :func:`course_utils.pretraining.make_nsp_pairs` when ``nsp``);
    - dynamic masking: every step masks its batch anew with ``DataCollatorForLanguageModeling``'s rule
      (15 %, 80/10/10), from a generator seeded with ``seed``;
    - the examples are visited in a seeded random order (epoch after epoch); ``pack=True`` packs
      short texts back to back into ``max_length`` blocks (RoBERTa's FULL-SENTENCES);
    - AdamW, linear warm-up over ``warmup`` × steps then linear decay to 0, gradient norm clipped at 1;
    - the MLM head runs on the masked positions only; ``freeze``: parameter-name prefixes kept fixed
      (e.g. ``("bert.embeddings",)``).

    Returns ``losses`` (MLM loss per step), ``nsp_losses`` (per step, empty without NSP), ``tokens_seen``
    (non-padding tokens processed), ``seconds``, ``tokens_per_s``, ``steps``, ``examples``, ``log``
    (every ``log_every`` steps: step, mean MLM loss of the last ``log_every`` steps).
    Same model init + data + seed → same weights (CPU).
    """
    import torch
    import torch.nn.functional as F

    from . import device as dev

    if steps < 0 or batch_size < 1:
        raise ValueError(f"train_mlm: steps={steps}, batch_size={batch_size}.")
    encoder, head = _mlm_head(model)
    if nsp and not hasattr(getattr(model, "cls", None), "seq_relationship"):
        raise TypeError("train_mlm(nsp=True) needs a BertForPreTraining (it has the NSP head).")
    examples = _examples(tokenizer, texts_or_paragraphs, max_length=max_length, nsp=nsp, pack=pack,
                         n_pairs=max(steps * batch_size, 1) if nsp else 0, seed=seed)
    if not examples:
        raise ValueError("train_mlm: no training example.")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    frozen = tuple(freeze)
    params = []
    for name, p in model.named_parameters():
        if frozen and name.startswith(frozen):
            p.requires_grad_(False)
        elif p.requires_grad:
            params.append(p)
    opt, sched = adamw_linear_schedule(params, lr=lr, weight_decay=weight_decay, warmup=warmup, steps=steps)
    device = next(model.parameters()).device
    amp, scaler = dev.mixed_precision(device)
    order: list = []
    bar = None
    if progress and steps:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="MLM+NSP" if nsp else "MLM", leave=False)
    losses, nsp_losses, log = [], [], []
    tokens = 0
    model.train()
    t0 = time.perf_counter()
    for step in range(steps):
        batch_ex = draw_examples(examples, order, rng, batch_size)
        batch = _pad(tokenizer, [e[0] for e in batch_ex], [e[1] for e in batch_ex])
        batch = _mask(tokenizer, batch, mlm_probability, gen)
        tokens += int(batch["attention_mask"].sum())
        batch = {k: v.to(device) for k, v in batch.items()}
        pos = batch["labels"] != IGNORE_INDEX
        with dev.autocast(device):             # bf16/fp16 on CUDA; on the CPU a no-op (fp32)
            out = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                          token_type_ids=batch["token_type_ids"])
            loss_mlm = F.cross_entropy(head(out[0][pos]).float(), batch["labels"][pos])
            loss = loss_mlm
            if nsp:
                y = torch.tensor([e[2] for e in batch_ex], device=device)
                loss_nsp = F.cross_entropy(model.cls.seq_relationship(out[1]).float(), y)
                loss = loss + loss_nsp
                nsp_losses.append(loss_nsp.item())
        optimizer_step(loss, opt, scaler, params)
        sched.step()
        losses.append(loss_mlm.item())
        if bar is not None:
            bar.update(1)
            if (step + 1) % max(1, log_every) == 0:
                bar.set_postfix(mlm=f"{sum(losses[-log_every:]) / len(losses[-log_every:]):.3f}")
        if log_every and (step + 1) % log_every == 0:
            window = losses[-log_every:]
            log.append({"step": step + 1, "mlm_loss": sum(window) / len(window)})
    seconds = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    if steps:
        dev.record_run("lm_training.train_mlm", device, amp, autocast_on=amp is not None, training=True, steps=steps)
    for name, p in model.named_parameters():
        if frozen and name.startswith(frozen):
            p.requires_grad_(True)
    model.eval()
    return {"losses": losses, "nsp_losses": nsp_losses, "tokens_seen": tokens, "seconds": seconds,
            "tokens_per_s": tokens / seconds if seconds > 0 else float("nan"), "steps": steps,
            "examples": len(examples), "log": log}


def new_tiny_bert(tokenizer, *, nsp: bool = True, seed: int = 0, **config):
    """A randomly initialised (seeded) ``BertForPreTraining`` (``nsp``) or ``BertForMaskedLM`` sized for a
    CPU: 4 layers, hidden 256, 4 heads, FFN 1024 unless ``config`` says otherwise; vocabulary = ``tokenizer``."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertForPreTraining

    cfg = dict(num_hidden_layers=4, hidden_size=256, num_attention_heads=4, intermediate_size=1024,
               max_position_embeddings=512, type_vocab_size=2)
    cfg.update(config)
    torch.manual_seed(seed)
    config_obj = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **cfg)
    return (BertForPreTraining if nsp else BertForMaskedLM)(config_obj).eval()


__all__ = ["fixed_mlm_eval_set", "evaluate_mlm", "frequency_baselines", "token_counts", "train_mlm",
           "new_tiny_bert", "IGNORE_INDEX"]
