"""ELECTRA's replaced-token detection (RTD) next to masked LM, at equal compute.

Lesson: ``13_bert_family`` (section "ELECTRA against MLM at equal compute"); the recorded run is
``benchmarks/electra_vs_mlm.py``. MLM training is :func:`course_utils.lm_training.train_mlm` (one
implementation); this module adds only what RTD needs, reusing its batching and masking helpers.

The recipe follows Clark et al. 2020, "ELECTRA: Pre-training Text Encoders as Discriminators Rather
Than Generators" (ICLR 2020, https://openreview.net/pdf?id=r1xMH1BtvB) and its code
(github.com/google-research/electra):

- a small **generator** (``ElectraForMaskedLM``) fills masked positions; the **discriminator**
  (``ElectraForPreTraining``, the encoder we keep) labels every token *original* or *replaced*;
- generator and discriminator **share the token, position and type embeddings** (the paper's
  "tied embeddings"; the generator's output layer is tied to the same word embeddings);
- loss = generator MLM loss + λ · discriminator loss, λ = 50; no gradient flows through sampling;
- a sampled token equal to the original counts as *original* (as in the paper).

Differences from the paper, said in the lesson: masking uses the course's 80/10/10 rule of
``DataCollatorForLanguageModeling`` (the paper's code masks with [MASK] only), and the models are tiny.

Compute is counted in FLOPs with :func:`train_flops_per_token` (matmuls only, forward × 3 for
forward + backward), so "equal compute" includes the generator's cost.
"""
from __future__ import annotations

import math
import random
import time
from typing import Sequence

LAMBDA = 50.0             # the paper's discriminator weight λ
MASK_RATE = 0.15


# ---------------------------------------------------------------- models

def tiny_configs(tokenizer, *, num_hidden_layers: int = 4, hidden_size: int = 256, num_attention_heads: int = 4,
                 intermediate_size: int = 1024, max_position_embeddings: int = 128,
                 generator_divisor: int = 4) -> tuple:
    """``(disc_config, gen_config)``: ``ElectraConfig`` s. The discriminator has the shape of the course's
    tiny BERT (``lm_training.new_tiny_bert`` / ``ko_model.RECIPE``); the generator is ``generator_divisor``
    times narrower (hidden, heads, FFN; the paper finds 1/4–1/2 of the discriminator best) with the same
    embedding width, so the embeddings can be shared."""
    from transformers import ElectraConfig

    common = dict(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, type_vocab_size=2,
                  max_position_embeddings=max_position_embeddings, num_hidden_layers=num_hidden_layers,
                  embedding_size=hidden_size)
    disc = ElectraConfig(hidden_size=hidden_size, num_attention_heads=num_attention_heads,
                         intermediate_size=intermediate_size, **common)
    d = max(1, generator_divisor)
    gen = ElectraConfig(hidden_size=hidden_size // d, num_attention_heads=max(1, num_attention_heads // d),
                        intermediate_size=intermediate_size // d, **common)
    return disc, gen


def new_electra(tokenizer, seed: int = 0, **config) -> tuple:
    """``(discriminator, generator)`` with shared embeddings, seeded random init (see :func:`tiny_configs`)."""
    import torch
    from transformers import ElectraForMaskedLM, ElectraForPreTraining

    disc_cfg, gen_cfg = tiny_configs(tokenizer, **config)
    torch.manual_seed(seed)
    disc = ElectraForPreTraining(disc_cfg)
    gen = ElectraForMaskedLM(gen_cfg)
    share_embeddings(disc, gen)
    return disc.eval(), gen.eval()


def share_embeddings(disc, gen) -> None:
    """The paper's tied embeddings: the generator uses the discriminator's embedding module, and its
    output layer the same word-embedding matrix."""
    gen.electra.embeddings = disc.electra.embeddings
    gen.generator_lm_head.weight = disc.electra.embeddings.word_embeddings.weight


def unique_parameters(*models) -> list:
    seen, out = set(), []
    for m in models:
        for p in m.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                out.append(p)
    return out


# ---------------------------------------------------------------- FLOPs

def forward_flops_per_token(cfg, seq_len: int) -> float:
    """Matmul FLOPs of one encoder forward, per token (2 per multiply-add): Q, K, V, output projections
    (4·d²), FFN (2·d·f), attention scores and weighted sum (2·T·d) per layer, plus the projection from
    the embedding width when it differs from the hidden size. Embedding lookups, softmax and LayerNorm
    are left out (small)."""
    d, f, L = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    e = getattr(cfg, "embedding_size", d) or d
    per_layer = 2 * (4 * d * d + 2 * d * f + 2 * seq_len * d)
    return L * per_layer + (2 * e * d if e != d else 0)


def train_flops_per_token(kind: str, disc_cfg, seq_len: int, gen_cfg=None, mask_rate: float = MASK_RATE) -> dict:
    """Training FLOPs per input token (forward + backward ≈ 3 × forward), term by term.

    ``kind="mlm"``: encoder on every token + MLM head (d² transform + d·V decoder) on the masked
    ``mask_rate`` of tokens. ``kind="rtd"``: generator encoder + its MLM head on masked tokens +
    discriminator encoder + RTD head (d² + d) on every token."""
    V = disc_cfg.vocab_size
    d = disc_cfg.hidden_size
    terms = {"encoder": 3 * forward_flops_per_token(disc_cfg, seq_len)}
    if kind == "mlm":
        terms["mlm_head"] = 3 * mask_rate * 2 * (d * d + d * V)
    elif kind == "rtd":
        if gen_cfg is None:
            raise ValueError("train_flops_per_token('rtd') needs gen_cfg")
        e, dg = gen_cfg.embedding_size, gen_cfg.hidden_size
        terms["rtd_head"] = 3 * 2 * (d * d + d)
        terms["generator"] = 3 * forward_flops_per_token(gen_cfg, seq_len)
        terms["generator_head"] = 3 * mask_rate * 2 * (dg * e + e * V)
    else:
        raise ValueError(f"kind must be 'mlm' or 'rtd', got {kind!r}")
    terms["total"] = sum(terms.values())
    return terms


def equal_flops_steps(mlm_steps: int, disc_cfg, gen_cfg, seq_len: int) -> dict:
    """RTD steps that cost the same FLOPs as ``mlm_steps`` MLM steps (same batch size and length)."""
    mlm = train_flops_per_token("mlm", disc_cfg, seq_len)
    rtd = train_flops_per_token("rtd", disc_cfg, seq_len, gen_cfg)
    ratio = rtd["total"] / mlm["total"]
    return {"mlm_per_token": mlm, "rtd_per_token": rtd, "ratio": ratio,
            "mlm_steps": mlm_steps, "rtd_steps": max(1, int(round(mlm_steps / ratio)))}


# ---------------------------------------------------------------- training

def train_rtd(disc, gen, tokenizer, texts: Sequence[str], *, steps: int, batch_size: int, lr: float, seed: int = 0,
              max_length: int = 64, warmup: float = 0.06, lam: float = LAMBDA, weight_decay: float = 0.01,
              mlm_probability: float = MASK_RATE, progress: bool = True, log_every: int = 50) -> dict:
    """Pre-train ``disc`` + ``gen`` with replaced-token detection for exactly ``steps`` steps.

    Same data pipeline, optimiser and schedule as :func:`course_utils.lm_training.train_mlm` (seeded
    order, dynamic 15 % masking every step, AdamW, linear warm-up/decay, clipping at 1), so the two
    objectives differ only in the loss. Returns ``gen_losses``, ``disc_losses`` (per step),
    ``replaced_rate`` (share of input tokens the generator actually changed, per step),
    ``tokens_seen`` and ``padded_tokens`` (positions computed), ``seconds``, ``steps``, ``log``.
    """
    import torch
    import torch.nn.functional as F

    from . import device as dev
    from . import lm_training as lm

    if steps < 0 or batch_size < 1:
        raise ValueError(f"train_rtd: steps={steps}, batch_size={batch_size}.")
    examples = lm._examples(tokenizer, texts, max_length=max_length, nsp=False, pack=False, n_pairs=0, seed=seed)
    if not examples:
        raise ValueError("train_rtd: no training example.")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    gen_mask = torch.Generator().manual_seed(seed)
    gen_sample = torch.Generator().manual_seed(seed + 1)
    params = unique_parameters(disc, gen)
    opt, sched = lm.adamw_linear_schedule(params, lr=lr, weight_decay=weight_decay, warmup=warmup, steps=steps)
    device = next(disc.parameters()).device
    amp, scaler = dev.mixed_precision(device)
    bar = None
    if progress and steps:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="RTD", leave=False)
    gen_losses, disc_losses, replaced, log = [], [], [], []
    tokens = padded = 0
    order: list = []
    disc.train()
    gen.train()
    t0 = time.perf_counter()
    for step in range(steps):
        batch_ex = lm.draw_examples(examples, order, rng, batch_size)
        clean = lm._pad(tokenizer, [e[0] for e in batch_ex], [e[1] for e in batch_ex])
        batch = lm._mask(tokenizer, clean, mlm_probability, gen_mask)
        tokens += int(batch["attention_mask"].sum())
        padded += batch["attention_mask"].numel()
        batch = {k: v.to(device) for k, v in batch.items()}
        original = clean["input_ids"].to(device)
        pos = batch["labels"] != lm.IGNORE_INDEX
        # generator: MLM on the masked positions only
        with dev.autocast(device):             # bf16/fp16 on CUDA; on the CPU a no-op (fp32)
            h = gen.electra(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                            token_type_ids=batch["token_type_ids"])[0]
            logits = gen.generator_lm_head(gen.generator_predictions(h[pos]))
            loss_gen = F.cross_entropy(logits.float(), batch["labels"][pos])
        # sample replacements (no gradient through sampling), build the discriminator's input
        with torch.no_grad():
            probs = torch.softmax(logits.detach().float(), dim=-1)
            sampled = torch.multinomial(probs.cpu(), 1, generator=gen_sample).squeeze(-1).to(device)
        corrupted = original.clone()
        corrupted[pos] = sampled
        is_replaced = (corrupted != original).float()
        active = batch["attention_mask"].bool()
        with dev.autocast(device):
            out = disc.electra(input_ids=corrupted, attention_mask=batch["attention_mask"],
                               token_type_ids=batch["token_type_ids"])[0]
            disc_logits = disc.discriminator_predictions(out)
            loss_disc = F.binary_cross_entropy_with_logits(disc_logits[active].float(), is_replaced[active])
            loss = loss_gen + lam * loss_disc
        lm.optimizer_step(loss, opt, scaler, params)
        sched.step()
        gen_losses.append(loss_gen.item())
        disc_losses.append(loss_disc.item())
        replaced.append(float(is_replaced[active].mean()))
        if bar is not None:
            bar.update(1)
        if log_every and (step + 1) % log_every == 0:
            w = slice(-log_every, None)
            log.append({"step": step + 1, "gen_loss": sum(gen_losses[w]) / len(gen_losses[w]),
                        "disc_loss": sum(disc_losses[w]) / len(disc_losses[w])})
    seconds = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    if steps:
        dev.record_run("electra.train_rtd", device, amp, autocast_on=amp is not None, training=True, steps=steps)
    disc.eval()
    gen.eval()
    return {"gen_losses": gen_losses, "disc_losses": disc_losses, "replaced_rate": replaced, "tokens_seen": tokens,
            "padded_tokens": padded, "seconds": seconds, "steps": steps, "examples": len(examples), "log": log}


def bernoulli_entropy(p: float) -> float:
    """Binary cross-entropy (nats) of always predicting the base rate ``p``: the loss a discriminator
    that ignores its input reaches; a trained one must go below it."""
    p = min(max(p, 1e-9), 1 - 1e-9)
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def detection_scores(disc, gen, tokenizer, texts: Sequence[str], *, max_length: int = 64, seed: int = 0) -> dict:
    """Replaced-token detection on held-out ``texts`` (masked and sampled once with ``seed``): ROC AUC of
    the discriminator's scores for *replaced* vs *original* tokens, the base rate, and the loss."""
    import torch
    import torch.nn.functional as F
    from sklearn.metrics import roc_auc_score

    from . import lm_training as lm

    clean = lm._pad(tokenizer, lm._encode(tokenizer, lm._flatten(texts), max_length))
    batch = lm._mask(tokenizer, clean, MASK_RATE, torch.Generator().manual_seed(seed))
    pos = batch["labels"] != lm.IGNORE_INDEX
    with torch.no_grad():
        h = gen.electra(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])[0]
        probs = torch.softmax(gen.generator_lm_head(gen.generator_predictions(h[pos])).float(), -1)
        sampled = torch.multinomial(probs, 1, generator=torch.Generator().manual_seed(seed + 1)).squeeze(-1)
        corrupted = clean["input_ids"].clone()
        corrupted[pos] = sampled
        y = (corrupted != clean["input_ids"]).float()
        logit = disc(input_ids=corrupted, attention_mask=batch["attention_mask"]).logits
    active = batch["attention_mask"].bool()
    y_a, s_a = y[active].numpy(), logit[active].float().numpy()
    rate = float(y_a.mean())
    auc = float(roc_auc_score(y_a, s_a)) if 0 < rate < 1 else float("nan")
    loss = float(F.binary_cross_entropy_with_logits(torch.tensor(s_a), torch.tensor(y_a)))
    return {"auc": auc, "replaced_rate": rate, "loss": loss, "baseline_loss": bernoulli_entropy(rate),
            "n_tokens": int(active.sum())}


# ---------------------------------------------------------------- fine-tuning both encoders the same way

def encoder_state(model) -> dict:
    """The encoder weights (embeddings + layers, no pooler, no pre-training head) of a BERT
    (``BertForPreTraining``/``BertForMaskedLM``) or an ELECTRA discriminator, with ELECTRA names."""
    base = getattr(model, "bert", None) or getattr(model, "electra", None)
    if base is None:
        raise TypeError(f"{type(model).__name__}: expected a BERT or ELECTRA pre-training model")
    return {k: v.detach().clone() for k, v in base.state_dict().items() if not k.startswith("pooler")}


def classifier_from(model, num_labels: int = 2, seed: int = 0):
    """An ``ElectraForSequenceClassification`` whose encoder is ``model``'s (BERT or ELECTRA: the layers
    are the same), so both pre-training objectives are fine-tuned with the **same** head
    (first token → dense → GELU → dense); only the head is new (seeded)."""
    import torch
    from transformers import ElectraConfig, ElectraForSequenceClassification

    c = model.config
    cfg = ElectraConfig(vocab_size=c.vocab_size, embedding_size=c.hidden_size, hidden_size=c.hidden_size,
                        num_hidden_layers=c.num_hidden_layers, num_attention_heads=c.num_attention_heads,
                        intermediate_size=c.intermediate_size, max_position_embeddings=c.max_position_embeddings,
                        type_vocab_size=c.type_vocab_size, pad_token_id=c.pad_token_id, num_labels=num_labels)
    torch.manual_seed(seed)
    clf = ElectraForSequenceClassification(cfg)
    missing, unexpected = clf.electra.load_state_dict(encoder_state(model), strict=False)
    if unexpected or [m for m in missing if "position_ids" not in m]:
        raise RuntimeError(f"classifier_from: missing {missing}, unexpected {unexpected}")
    return clf


def finetune_accuracy(model, tokenizer, train_ds, test_ds, *, seed: int, epochs: float = 2.0, lr: float = 1e-4,
                      batch_size: int = 32, max_length: int = 64, output_dir: str = "build/runs/electra_ft") -> float:
    """Fine-tune a fresh :func:`classifier_from` ``model`` with the course recipe (``train.make_trainer``)
    and return its test accuracy."""
    from . import train

    clf = classifier_from(model, seed=seed)
    cfg = train.FinetuneConfig(max_length=max_length, batch_size=batch_size, learning_rate=lr, epochs=epochs,
                               seed=seed, output_dir=output_dir, logging_steps=50)
    tr = train.tokenize(train_ds, tokenizer, max_length=max_length)
    te = train.tokenize(test_ds, tokenizer, max_length=max_length)
    trainer = train.make_trainer(clf, tokenizer, tr, te, cfg, disable_tqdm=True)
    trainer.train()
    return float(trainer.evaluate()["eval_accuracy"])


def mean_sd(xs: Sequence[float]) -> tuple:
    """Mean and sample standard deviation (n − 1)."""
    n = len(xs)
    m = sum(xs) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1)) if n > 1 else 0.0
    return m, sd


def verdict(electra_accs: Sequence[float], mlm_accs: Sequence[float]) -> str:
    """``"held"`` (ELECTRA's mean beats MLM's by more than both standard deviations combined),
    ``"reversed"`` (MLM wins by that margin) or ``"not resolved"`` (the difference is within the noise)."""
    me, se = mean_sd(electra_accs)
    mm, sm = mean_sd(mlm_accs)
    margin = math.sqrt(se ** 2 + sm ** 2)
    if me - mm > margin:
        return "held"
    if mm - me > margin:
        return "reversed"
    return "not resolved"


__all__ = ["LAMBDA", "tiny_configs", "new_electra", "share_embeddings", "forward_flops_per_token",
           "train_flops_per_token", "equal_flops_steps", "train_rtd", "detection_scores", "bernoulli_entropy",
           "classifier_from", "encoder_state", "finetune_accuracy", "mean_sd", "verdict"]
