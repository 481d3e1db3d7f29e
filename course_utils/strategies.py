"""Fine-tuning strategies, measured on one task and one budget (lesson ``14_finetuning_strategies_and_beyond``).

Six ways to adapt a pretrained BERT to sentence classification, all from the same
``BertForSequenceClassification`` and the same data, steps and batch size:

=======================  ==========================================================================
``head only``            encoder (and pooler) frozen; only the new classifier learns
``lower k frozen``       embeddings + the lower ``k`` layers frozen; the top layers and the head learn
``full``                 everything learns (the usual recipe, notebook 06)
``layer-wise lr decay``  everything learns; layer ``l`` gets ``lr · decay^(L+1-l)`` (Sun et al. 2019,
                         "How to Fine-Tune BERT for Text Classification?", arXiv:1905.05583)
``re-init top layer``    the top encoder layer is re-initialised, then full fine-tuning (Zhang et al.
                         2021, "Revisiting Few-sample BERT Fine-tuning", arXiv:2006.05987)
``intermediate layer``   frozen encoder; the classifier reads ``hidden_states[m]``'s [CLS] vector.
                         ``hidden_states[0]`` is the embedding layer's output, ``hidden_states[i]`` the
                         output of encoder layer ``i`` (1-based), so ``hidden_states[6]`` is the 6th layer
=======================  ==========================================================================

The two frozen-encoder strategies read their features once, in eval mode (no dropout), and train the
head on those cached vectors: the frozen encoder would compute the very same numbers at every step.
Their training time includes that one feature pass. The others run a plain PyTorch loop (AdamW at
constant rates: ``lr`` for the encoder, ``head_lr`` for the new classifier in every strategy). The course
``Trainer`` recipe (:func:`course_utils.train.make_trainer`) would need a custom optimizer per strategy
and about a second of setup per run, too much for 18 runs of ten steps on 2 cores.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import time
from typing import Optional, Sequence

import numpy as np

from .i18n import tr

STRATEGIES = ("head only", "lower k frozen", "full", "layer-wise lr decay", "re-init top layer",
              "intermediate layer")


@dataclasses.dataclass
class StrategyBudget:
    """The one budget every strategy gets (``steps`` × ``batch_size`` examples at ``max_length``)."""
    steps: int = 10
    batch_size: int = 16
    max_length: int = 64
    lr: float = 1e-4            # the pretrained encoder (≤ train.MAX_PRETRAINED_LR)
    head_lr: float = 1e-3       # the new classifier, in every strategy (at 1e-4 it barely moves in 10 steps)
    llrd_decay: float = 0.8     # per layer, from the top
    weight_decay: float = 0.01
    frozen_k: Optional[int] = None      # default: 2/3 of the layers (4 of 6, 8 of 12)
    feature_layer: Optional[int] = None  # default: the middle layer (3 of 6; 6 of 12, the seed's index)


# ---------------------------------------------------------------- building blocks

def count_parameters(model) -> tuple:
    """``(trainable, total)`` parameter counts of ``model``."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def freeze(module) -> None:
    """``requires_grad = False`` on every parameter of ``module``."""
    for p in module.parameters():
        p.requires_grad_(False)


def freeze_lower_layers(model, k: int) -> None:
    """Freeze the embeddings and encoder layers ``0 … k-1`` of a ``BertFor…`` model (``model.bert``)."""
    layers = model.bert.encoder.layer
    if not 0 <= k <= len(layers):
        raise ValueError(f"k={k}: the encoder has {len(layers)} layers")
    freeze(model.bert.embeddings)
    for layer in layers[:k]:
        freeze(layer)


def reinit_top_layers(model, n: int = 1) -> None:
    """Re-initialise the top ``n`` encoder layers as BERT initialises new weights (normal(0, 0.02)
    Linear weights, zero biases, LayerNorm 1/0)."""
    import torch

    std = model.config.initializer_range
    layers = model.bert.encoder.layer
    if not 1 <= n <= len(layers):
        raise ValueError(f"n={n}: the encoder has {len(layers)} layers")
    with torch.no_grad():
        for layer in layers[-n:]:
            for m in layer.modules():
                if isinstance(m, torch.nn.Linear):
                    m.weight.normal_(0.0, std)
                    if m.bias is not None:
                        m.bias.zero_()
                elif isinstance(m, torch.nn.LayerNorm):
                    m.weight.fill_(1.0)
                    m.bias.zero_()


def layer_depth(name: str, num_layers: int) -> int:
    """Depth of a parameter of a ``BertFor…`` model: 0 embeddings, ``i+1`` encoder layer ``i``,
    ``num_layers + 1`` everything above (pooler, classifier)."""
    if ".embeddings." in f".{name}":
        return 0
    marker = "encoder.layer."
    if marker in name:
        return int(name.split(marker, 1)[1].split(".", 1)[0]) + 1
    return num_layers + 1


def llrd_param_groups(model, lr: float, decay: float, weight_decay: float = 0.0,
                      head_lr: Optional[float] = None, head_prefix: str = "classifier") -> list:
    """AdamW parameter groups with layer-wise learning-rate decay (Sun et al. 2019, section 5.2):
    the pooler gets ``lr``, encoder layer ``i`` (1-based, from the bottom) ``lr · decay^(L+1-i)`` and the
    embeddings ``lr · decay^(L+1)``; parameters named ``head_prefix…`` get ``head_lr`` (default ``lr``).
    Biases and LayerNorm weights get no weight decay. Frozen parameters are left out. Each group has
    ``depth`` (``L+2`` for the head) and ``lr``.
    """
    if not 0 < decay <= 1:
        raise ValueError(f"decay={decay}: use 0 < decay ≤ 1 (1 = no decay)")
    num_layers = model.config.num_hidden_layers
    groups: dict = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        is_head = name.startswith(head_prefix)
        depth = num_layers + 2 if is_head else layer_depth(name, num_layers)
        no_wd = name.endswith("bias") or "LayerNorm" in name
        key = (depth, no_wd)
        if key not in groups:
            group_lr = (lr if head_lr is None else head_lr) if is_head else lr * decay ** (num_layers + 1 - depth)
            groups[key] = {"params": [], "lr": group_lr,
                           "weight_decay": 0.0 if no_wd else weight_decay, "depth": depth}
        groups[key]["params"].append(p)
    return [groups[k] for k in sorted(groups)]


def default_layers(num_layers: int, budget: StrategyBudget) -> tuple:
    """``(frozen_k, feature_layer)``: 2/3 of the layers frozen; the middle layer's features."""
    k = budget.frozen_k if budget.frozen_k is not None else (2 * num_layers) // 3
    m = budget.feature_layer if budget.feature_layer is not None else num_layers // 2
    return k, m


# ---------------------------------------------------------------- data and loops

def encode(tokenizer, texts: Sequence[str], labels, max_length: int) -> dict:
    """Padded CPU tensors ``input_ids``, ``attention_mask``, ``labels`` (truncated to ``max_length``)."""
    import torch

    enc = tokenizer(list(texts), truncation=True, max_length=max_length, padding=True, return_tensors="pt")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
            "labels": torch.as_tensor(np.asarray(labels), dtype=torch.long)}


def _batch_order(n: int, steps: int, batch_size: int, seed: int) -> list:
    """Index batches for ``steps`` steps: seeded shuffles of ``range(n)``, epoch after epoch."""
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(n) for _ in range(math.ceil(steps * batch_size / n) + 1)])
    return [order[i * batch_size:(i + 1) * batch_size] for i in range(steps)]


def _fit(module, forward, n: int, budget: StrategyBudget, optimizer, seed: int) -> float:
    """Run ``budget.steps`` AdamW steps of ``forward(idx) → loss`` at constant learning rates (ten steps
    leave no room for warmup and decay); returns seconds."""
    from . import device as dev
    from .lm_training import optimizer_step

    device = next(module.parameters()).device
    amp, scaler = dev.mixed_precision(device)      # bf16/fp16 autocast on CUDA; fp32 (unchanged) on the CPU
    module.train()
    t0 = time.perf_counter()
    for idx in _batch_order(n, budget.steps, budget.batch_size, seed):
        with dev.autocast(device):
            loss = forward(idx)
        optimizer_step(loss, optimizer, scaler, None, max_norm=None)
    if budget.steps:
        dev.record_run("strategies.fit", device, amp, autocast_on=amp is not None, training=True, steps=budget.steps)
    return time.perf_counter() - t0


def frozen_features(model, enc: dict, layers: Sequence[int], batch_size: int = 64) -> tuple:
    """One no-grad eval-mode pass: ``({layer: [CLS] vectors [N, H]}, {"pooled": pooler output}, seconds)``.

    ``layers`` index ``hidden_states`` (0 = embeddings). Tensors stay on the model's device.
    """
    import torch

    dev = next(model.parameters()).device
    model.eval()
    cls = {m: [] for m in layers}
    pooled = []
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(enc["labels"]), batch_size):
            out = model.bert(input_ids=enc["input_ids"][i:i + batch_size].to(dev),
                             attention_mask=enc["attention_mask"][i:i + batch_size].to(dev),
                             output_hidden_states=True)
            for m in layers:
                cls[m].append(out.hidden_states[m][:, 0])
            pooled.append(out.pooler_output)
    return {m: torch.cat(v) for m, v in cls.items()}, torch.cat(pooled), time.perf_counter() - t0


def _head_accuracy(head, x_eval, y_eval) -> float:
    import torch

    head.eval()
    with torch.no_grad():
        return float((head(x_eval).argmax(-1).cpu() == y_eval).float().mean())


def _model_accuracy(model, enc: dict, batch_size: int = 64) -> float:
    from .train import batched_logits

    batches = ({"input_ids": enc["input_ids"][i:i + batch_size], "attention_mask": enc["attention_mask"][i:i + batch_size]}
               for i in range(0, len(enc["labels"]), batch_size))
    preds = batched_logits(model, batches).argmax(-1)
    return float((preds == enc["labels"].numpy()).mean())


def _fresh_classifier(model, seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    with torch.no_grad():
        model.classifier.weight.normal_(0.0, model.config.initializer_range)
        model.classifier.bias.zero_()


def run_strategy(strategy: str, base_model, train_enc: dict, eval_enc: dict, budget: StrategyBudget,
                 seed: int, features: Optional[dict] = None) -> dict:
    """Train one copy of ``base_model`` (a ``BertForSequenceClassification``) with ``strategy`` and
    ``seed`` → ``{strategy, seed, accuracy, seconds, trainable, total}``.

    ``features``: the output of :func:`cached_features` (the two frozen-encoder strategies need it).
    ``seconds`` is the training time (plus the feature pass over the training rows for those two).
    """
    import torch

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r}: use one of {STRATEGIES}")
    n_layers = base_model.config.num_hidden_layers
    k, m = default_layers(n_layers, budget)
    dev = next(base_model.parameters()).device
    total = sum(p.numel() for p in base_model.parameters())
    torch.manual_seed(seed)
    if strategy in ("head only", "intermediate layer"):
        if features is None:
            raise ValueError(f"{strategy!r} needs features=cached_features(...)")
        key = "pooled" if strategy == "head only" else m
        x_tr, x_ev = features["train"][key], features["eval"][key]
        head = torch.nn.Sequential(torch.nn.Dropout(base_model.config.hidden_dropout_prob),
                                   torch.nn.Linear(x_tr.shape[1], base_model.config.num_labels)).to(dev)
        with torch.no_grad():
            head[1].weight.normal_(0.0, base_model.config.initializer_range)
            head[1].bias.zero_()
        opt = torch.optim.AdamW(head.parameters(), lr=budget.head_lr, weight_decay=budget.weight_decay)
        y_tr = train_enc["labels"].to(dev)

        def forward(idx):
            return torch.nn.functional.cross_entropy(head(x_tr[idx]), y_tr[idx])

        secs = _fit(head, forward, len(y_tr), budget, opt, seed) + features["seconds"]
        trainable = sum(p.numel() for p in head.parameters())
        acc = _head_accuracy(head, x_ev, eval_enc["labels"])
        # what the frozen-encoder model would have: the encoder's parameters (+ pooler) are frozen
        return dict(strategy=strategy, seed=seed, accuracy=acc, seconds=secs, trainable=trainable, total=total)

    model = copy.deepcopy(base_model)
    _fresh_classifier(model, seed)
    if strategy == "lower k frozen":
        freeze_lower_layers(model, k)
    if strategy == "re-init top layer":
        reinit_top_layers(model, 1)
    if strategy == "layer-wise lr decay":
        groups = llrd_param_groups(model, budget.lr, budget.llrd_decay, budget.weight_decay, head_lr=budget.head_lr)
    else:
        groups = llrd_param_groups(model, budget.lr, 1.0, budget.weight_decay, head_lr=budget.head_lr)
    opt = torch.optim.AdamW([{k2: v for k2, v in g.items() if k2 != "depth"} for g in groups])

    def forward(idx):
        return model(input_ids=train_enc["input_ids"][idx].to(dev),
                     attention_mask=train_enc["attention_mask"][idx].to(dev),
                     labels=train_enc["labels"][idx].to(dev)).loss

    secs = _fit(model, forward, len(train_enc["labels"]), budget, opt, seed)
    trainable, _ = count_parameters(model)
    acc = _model_accuracy(model, eval_enc)
    return dict(strategy=strategy, seed=seed, accuracy=acc, seconds=secs, trainable=trainable, total=total)


def cached_features(base_model, train_enc: dict, eval_enc: dict, budget: StrategyBudget) -> dict:
    """Frozen-encoder features for ``head only`` (pooler output) and ``intermediate layer``
    (``hidden_states[m]``'s [CLS]) of the training and evaluation rows, read once."""
    _, m = default_layers(base_model.config.num_hidden_layers, budget)
    tr_cls, tr_pooled, secs = frozen_features(base_model, train_enc, [m])
    ev_cls, ev_pooled, _ = frozen_features(base_model, eval_enc, [m])
    return {"train": {"pooled": tr_pooled, m: tr_cls[m]}, "eval": {"pooled": ev_pooled, m: ev_cls[m]},
            "seconds": secs, "layer": m}


def compare(base_model, train_enc: dict, eval_enc: dict, budget: StrategyBudget,
            seeds: Sequence[int] = (0, 1, 2), strategies: Sequence[str] = STRATEGIES, progress=print) -> list:
    """Every strategy × every seed → a list of :func:`run_strategy` rows."""
    feats = cached_features(base_model, train_enc, eval_enc, budget)
    rows = []
    for s in strategies:
        for seed in seeds:
            rows.append(run_strategy(s, base_model, train_enc, eval_enc, budget, seed, features=feats))
            if progress:
                r = rows[-1]
                progress(f"{s:<20} seed {seed}: accuracy {r['accuracy']:.3f} · {r['seconds']:.1f} s")
    return rows


def summarise(rows: list):
    """A pandas table, one row per strategy: accuracy mean ± sd, seconds mean, trainable parameters, runs."""
    import pandas as pd

    df = pd.DataFrame(rows)
    g = df.groupby("strategy", sort=False)
    out = pd.DataFrame({
        "accuracy_mean": g["accuracy"].mean(), "accuracy_sd": g["accuracy"].std(ddof=1),
        "seconds_mean": g["seconds"].mean(), "trainable": g["trainable"].first(),
        "trainable_%": 100 * g["trainable"].first() / g["total"].first(), "runs": g["seed"].count()})
    return out


def plot_strategies(table, ax=None, title: Optional[str] = None):
    """Accuracy (mean ± sd) per strategy, with trainable parameters and seconds as bar labels."""
    import matplotlib.pyplot as plt

    from .viz import use_korean_font

    use_korean_font(quiet=True)   # titles and labels may be Korean (the Korean edition)
    ax = ax or plt.subplots(figsize=(8, 3.8))[1]
    names = list(table.index)
    y = np.arange(len(names))
    ax.barh(y, table["accuracy_mean"], xerr=table["accuracy_sd"], color="#4c72b0", alpha=0.8, capsize=3)
    for i, (_, r) in enumerate(table.iterrows()):
        ax.text(0.01, i, f"{r['trainable'] / 1e6:.2f} M trainable · {r['seconds_mean']:.1f} s",
                va="center", color="white", fontsize=8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"accuracy (mean ± sd over {int(table['runs'].min())} seeds)")
    ax.set_title(title if title is not None else tr("Fine-tuning strategies", "파인튜닝 전략"))
    return ax


__all__ = ["STRATEGIES", "StrategyBudget", "count_parameters", "freeze", "freeze_lower_layers", "reinit_top_layers",
           "layer_depth", "llrd_param_groups", "default_layers", "encode", "frozen_features", "run_strategy",
           "cached_features", "compare", "summarise", "plot_strategies"]
