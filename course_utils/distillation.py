"""Knowledge distillation: a smaller student learns from a fine-tuned teacher's soft targets.

Lesson: ``12_distillation_and_efficiency``.

* :func:`student_from_teacher`: DistilBERT's initialisation (Sanh et al. 2019, arXiv:1910.01108,
  section 3: "we initialize the student from the teacher by taking one layer out of two"): the
  student keeps the teacher's embeddings, every other encoder layer, its pooler and classifier.
* :func:`distillation_loss`: Hinton et al. (2015, arXiv:1503.02531): ``alpha`` × KL between the
  teacher's and the student's distributions softened with temperature ``T``, multiplied by ``T²``
  (so the soft-target gradients keep their size when ``T`` changes), + ``(1 - alpha)`` × the usual
  cross-entropy on the true labels.
* :func:`distillation_trainer_class`: a ``transformers.Trainer`` subclass that computes that loss,
  with today's ``compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None)``
  signature (transformers ≥ 4.46 passes ``num_items_in_batch``; overrides written for the old
  three-argument signature fail with ``TypeError: ... unexpected keyword argument
  'num_items_in_batch'``). Use it through :func:`course_utils.train.make_trainer` (``trainer_cls=``)
  so the student gets the course recipe unchanged.
"""
from __future__ import annotations

import copy
from typing import Optional, Sequence


def every_other_layer(n_layers: int) -> list:
    """Teacher layers a DistilBERT-style student keeps: 0, 2, 4, … (6 of bert-base's 12; 3 of MiniLM's 6)."""
    if n_layers < 2:
        raise ValueError(f"a teacher with {n_layers} layer(s) has nothing to halve")
    return list(range(0, n_layers, 2))


def student_from_teacher(teacher, layers: Optional[Sequence[int]] = None):
    """A copy of ``teacher`` (a ``BertFor…`` model) with only the encoder ``layers`` (default: every other one).

    Embeddings, pooler and classifier are copied too, so the student starts as a shallower version of
    the teacher rather than from random weights (DistilBERT's recipe). The teacher is not modified.
    """
    import torch

    n = teacher.config.num_hidden_layers
    layers = every_other_layer(n) if layers is None else [int(i) for i in layers]
    if not layers or any(i < 0 or i >= n for i in layers) or len(set(layers)) != len(layers):
        raise ValueError(f"layers must be distinct indices in 0..{n - 1}, got {layers}")
    base = getattr(teacher, teacher.base_model_prefix)
    cfg = copy.deepcopy(teacher.config)
    cfg.num_hidden_layers = len(layers)
    student = type(teacher)(cfg)
    with torch.no_grad():
        src = {k: v for k, v in teacher.state_dict().items()
               if not k.startswith(f"{teacher.base_model_prefix}.encoder.layer.")}
        for new, old in enumerate(layers):
            prefix = f"{teacher.base_model_prefix}.encoder.layer."
            for k, v in base.encoder.layer[old].state_dict().items():
                src[f"{prefix}{new}.{k}"] = v
        missing, unexpected = student.load_state_dict(src, strict=False)
    if unexpected or [m for m in missing if "position_ids" not in m]:
        raise RuntimeError(f"student_from_teacher: missing {missing}, unexpected {unexpected}")
    return student.to(next(teacher.parameters()).device).train(teacher.training)


def distillation_loss(student_logits, teacher_logits, labels=None, temperature: float = 2.0, alpha: float = 0.5):
    """``alpha · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − alpha) · CE(s, labels)`` (Hinton et al. 2015).

    Mean over the batch (``batchmean`` KL). ``alpha=1`` learns from the teacher only, ``alpha=0`` is
    ordinary fine-tuning. ``labels`` may be ``None`` only with ``alpha=1``.
    """
    import torch.nn.functional as F

    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    s = student_logits.float()
    t = teacher_logits.float().detach()
    soft = F.kl_div(F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1),
                    reduction="batchmean", log_target=True) * temperature ** 2
    if alpha == 1.0:
        return soft
    if labels is None:
        raise ValueError("labels are needed when alpha < 1 (the cross-entropy part)")
    hard = F.cross_entropy(s, labels)
    return alpha * soft + (1.0 - alpha) * hard


def distillation_trainer_class(teacher, temperature: float = 2.0, alpha: float = 0.5):
    """A ``Trainer`` class (the course's in-order Trainer) whose loss is :func:`distillation_loss`.

    The teacher runs in eval mode without gradients on the student's device. Pass the result to
    ``train.make_trainer(..., trainer_cls=...)``.
    """
    import torch

    from .train import _in_order_trainer_class

    base = _in_order_trainer_class()

    class DistillationTrainer(base):
        # our loss is a per-batch mean: the Trainer divides it by the gradient-accumulation steps itself
        loss_is_scaled_for_ga = False

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.teacher = teacher
            self.temperature, self.alpha = temperature, alpha

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.get("labels")
            student_inputs = {k: v for k, v in inputs.items() if k != "labels"}
            outputs = model(**student_inputs)
            dev = outputs.logits.device
            if next(self.teacher.parameters()).device != dev:
                self.teacher.to(dev)
            self.teacher.eval()
            with torch.no_grad():
                t_logits = self.teacher(**student_inputs).logits
            loss = distillation_loss(outputs.logits, t_logits, labels, self.temperature, self.alpha)
            outputs["loss"] = loss
            return (loss, outputs) if return_outputs else loss

    return DistillationTrainer


def cached_teacher(name: str, tokenizer, train_enc, eval_enc, cfg, *, id2label: dict, key: dict):
    """The fine-tuned teacher: ``name`` fine-tuned with :func:`course_utils.train.make_trainer` on ``train_enc``.

    Fine-tuning is notebook 06's lesson; here it is a one-off build, cached in the course cache
    (``BERT_COURSE_CACHE``/distillation/teacher-<hash>, published atomically under a lock by
    :func:`course_utils.cache.publish`) and keyed by the model's source, ``cfg``, ``key`` (the data
    setting) and the training rows' ids. Returns ``(model, log)``: the model in eval mode and the
    Trainer's ``log_history`` of the run that built it.
    """
    import hashlib
    import json

    from transformers import AutoModelForSequenceClassification

    from . import cache, env, models, train

    res = models.resolve(name, "seqcls")
    digest = hashlib.sha256(json.dumps(
        {"name": name, "where": res.where, "cfg": {k: v for k, v in vars(cfg).items() if k != "output_dir"},
         "key": key, "rows": [list(r) for r in train_enc["input_ids"][:]]}, sort_keys=True, default=str
    ).encode()).hexdigest()[:16]
    target = env.cache_dir("distillation") / f"teacher-{digest}"

    def build(staging):
        model, _ = models.load_model(name, task="seqcls", num_labels=len(id2label), id2label=id2label)
        trainer = train.make_trainer(model, tokenizer, train_enc, eval_enc, cfg)
        trainer.train()
        model.save_pretrained(staging)
        (staging / "log_history.json").write_text(json.dumps(trainer.state.log_history))

    folder = cache.publish(target, build, what=f"the fine-tuned teacher ({name})",
                           valid=lambda p: (p / "log_history.json").exists())
    model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True).eval()
    env.record_source("model", f"{name} (fine-tuned teacher)", "cache", str(folder),
                      f"fine-tuned here once on {len(train_enc)} reviews, {cfg.max_steps} steps")
    return model, json.loads((folder / "log_history.json").read_text())


__all__ = ["cached_teacher", "every_other_layer", "student_from_teacher", "distillation_loss", "distillation_trainer_class"]
