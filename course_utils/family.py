"""The BERT family side by side: configs, parameter counts, tokenizers, published scores.

Lesson: ``13_bert_family``. Offline there are no checkpoints of these models on disk, so each entry
of :data:`FAMILY` stores the **defining hyperparameters of its real ``config.json``** (copied from
the hub file at the pinned revision in ``course_utils.registry.FAMILY_CHECKPOINTS``) and
:func:`count_parameters` instantiates the architecture with random weights on the ``meta`` device
(no memory, no download) only to count. Under the ``full`` profile :func:`check_real_config`
downloads the real ``config.json`` at the pinned revision and compares every stored key.

Published scores are copied from the cited source, never from memory; a cell we could not check
is ``None`` and shows as "–" (with the reason in the notes).
"""
from __future__ import annotations

import collections
import math
from typing import Iterable, Optional, Sequence

# Defining keys of each real config.json (hub file at the revision pinned in registry.FAMILY_CHECKPOINTS).
FAMILY: dict = {
    "bert-base-uncased": dict(
        model_type="bert", config=dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                                       intermediate_size=3072, max_position_embeddings=512, type_vocab_size=2),
        tokenizer="WordPiece (uncased)", objective="MLM + NSP",
        data="BooksCorpus + English Wikipedia (16 GB)",
        scores={"MNLI": 84.6, "SST-2": 93.5}, split="GLUE test",
        source="Devlin et al. 2019, Table 1 (arXiv:1810.04805)"),
    "roberta-base": dict(
        model_type="roberta", config=dict(vocab_size=50265, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                                          intermediate_size=3072, max_position_embeddings=514, type_vocab_size=1,
                                          pad_token_id=1, layer_norm_eps=1e-5),
        tokenizer="byte-level BPE", objective="MLM only, dynamic masking, no NSP",
        data="160 GB: books, Wikipedia, CC-News, OpenWebText, Stories",
        scores={"MNLI": 87.6, "SST-2": 94.8}, split="GLUE dev",
        source="fairseq examples/roberta/README.md, GLUE dev table"),
    "albert-base-v2": dict(
        model_type="albert", config=dict(vocab_size=30000, embedding_size=128, hidden_size=768, num_hidden_layers=12,
                                         num_attention_heads=12, intermediate_size=3072, max_position_embeddings=512,
                                         type_vocab_size=2, num_hidden_groups=1, inner_group_num=1),
        tokenizer="SentencePiece Unigram", objective="MLM (n-gram) + SOP",
        data="BooksCorpus + English Wikipedia (16 GB)",
        scores={"MNLI": 84.6, "SST-2": 92.9}, split="dev (v2 models)",
        source="google-research/albert README, 'Version 2' table (ALBERT-base v2)"),
    "distilbert-base-uncased": dict(
        model_type="distilbert", config=dict(vocab_size=30522, dim=768, n_layers=6, n_heads=12, hidden_dim=3072,
                                             max_position_embeddings=512),
        tokenizer="WordPiece (uncased)", objective="distillation from BERT-base (soft targets + MLM + cosine)",
        data="BooksCorpus + English Wikipedia",
        scores={"MNLI": 82.2, "SST-2": 91.3}, split="GLUE dev",
        source="Sanh et al. 2019, Table 1 (arXiv:1910.01108)"),
    "electra-base-discriminator": dict(
        model_type="electra", config=dict(vocab_size=30522, embedding_size=768, hidden_size=768, num_hidden_layers=12,
                                          num_attention_heads=12, intermediate_size=3072,
                                          max_position_embeddings=512, type_vocab_size=2),
        tokenizer="WordPiece (uncased)", objective="replaced-token detection (+ small MLM generator)",
        data="BooksCorpus + English Wikipedia (as BERT)",
        scores={"MNLI": 88.8, "SST-2": 95.1}, split="GLUE dev (median of many seeds)",
        source="google-research/electra README, 'Expected Results'"),
    "deberta-v3-base": dict(
        model_type="deberta-v2", config=dict(vocab_size=128100, hidden_size=768, num_hidden_layers=12,
                                             num_attention_heads=12, intermediate_size=3072,
                                             max_position_embeddings=512, type_vocab_size=0, relative_attention=True,
                                             position_buckets=256, norm_rel_ebd="layer_norm", share_att_key=True,
                                             pos_att_type=["p2c", "c2p"], position_biased_input=False,
                                             max_relative_positions=-1, layer_norm_eps=1e-7),
        tokenizer="SentencePiece Unigram (128k)", objective="RTD with gradient-disentangled embedding sharing",
        data="160 GB (as DeBERTa v2)",
        scores={"MNLI": 90.6, "SST-2": None}, split="MNLI-m dev",
        source="microsoft/deberta-v3-base model card (MNLI-m/mm 90.6/90.7; no SST-2 there)"),
}

# Korean rows: NSMC accuracy and KorNLI accuracy from the KoELECTRA README table (REFERENCE.md §8);
# fine-tuned by its author with one recipe (NSMC 10 epochs, KorNLI = multinli.train.ko → xnli.test).
KOREAN_SCORES: dict = {
    "KoBERT": (89.59, 79.62), "XLM-R-Base": (89.03, 80.23), "HanBERT": (90.06, 80.32),
    "KoELECTRA-Base-v3": (90.63, 82.24), "KoELECTRA-Small-v3": (89.36, 78.60), "DistilKoBERT": (88.60, 72.00),
    "KcBERT-Base": (None, None),
}
KOREAN_SOURCE = "monologg/KoELECTRA README, finetune table (NSMC acc, KorNLI acc)"


def config_object(name: str):
    """The transformers config of ``name`` built from the stored hyperparameters (no download)."""
    from transformers import AutoConfig

    entry = FAMILY[name]
    return AutoConfig.for_model(entry["model_type"], **entry["config"])


def count_parameters(config, head: Optional[str] = None) -> dict:
    """Instantiate ``AutoModel.from_config(config)`` on the ``meta`` device (no weights are allocated)
    and count parameters: ``total`` (the base model, with pooler where the architecture has one),
    ``embeddings`` (every parameter under an ``embeddings`` module), ``encoder`` (the rest).
    Shared (tied) parameters are counted once, as ``model.parameters()`` does."""
    import torch
    from transformers import AutoModel

    with torch.device("meta"):
        model = AutoModel.from_config(config)
    total = emb = 0
    by_part: collections.Counter = collections.Counter()
    for n, p in model.named_parameters():
        total += p.numel()
        if "embeddings" in n.split(".")[0:2] or n.startswith("embeddings"):
            emb += p.numel()
        by_part[n.split(".")[0]] += p.numel()
    return {"total": total, "embeddings": emb, "encoder": total - emb, "parts": dict(by_part),
            "class": type(model).__name__}


def albert_savings(config) -> dict:
    """ALBERT's two savings counted from its config (Lan et al. 2020, arXiv:1909.11942, §3.1):

    - **factorised embedding**: V·E + E·H instead of V·H for the token embeddings;
    - **cross-layer sharing**: one layer's weights for all ``num_hidden_layers`` layers, instead of L copies.

    Returns the counts with and without each saving (matmul weights and biases of one layer included)."""
    V, E, H, F, L = (config.vocab_size, config.embedding_size, config.hidden_size, config.intermediate_size,
                     config.num_hidden_layers)
    P, T = config.max_position_embeddings, config.type_vocab_size
    layer = 4 * (H * H + H) + 2 * H + (H * F + F) + (F * H + H) + 2 * H   # Q,K,V,O + LN + FFN + LN
    bert_style = (V + P + T) * H + 2 * H                 # token, position, type embeddings + LayerNorm at width H
    factorised = (V + P + T) * E + 2 * E + (E * H + H)   # the same at width E, + the E→H projection
    return {"embeddings_bert_style": bert_style, "embeddings_factorised": factorised,
            "one_layer": layer, "layers_unshared": L * layer, "layers_shared": layer,
            "saved_by_factorisation": bert_style - factorised, "saved_by_sharing": (L - 1) * layer}


def dropped_by_distilbert(bert_counts: dict, bert_config) -> dict:
    """What DistilBERT drops from BERT-base besides half of the layers: the token-type embeddings
    (type_vocab_size × H) and the pooler (H × H + H). Sanh et al. 2019, §3."""
    H = bert_config.hidden_size
    return {"token_type_embeddings": bert_config.type_vocab_size * H, "pooler": H * H + H,
            "half_the_layers": bert_counts["parts"].get("encoder", 0) // 2}


def family_table() -> list:
    """One row per model of :data:`FAMILY`: counted parameters, vocab, tokenizer, objective, data, scores."""
    rows = []
    for name, e in FAMILY.items():
        counts = count_parameters(config_object(name))
        rows.append({"model": name, "params_M": round(counts["total"] / 1e6, 1),
                     "embeddings_M": round(counts["embeddings"] / 1e6, 1), "vocab": e["config"]["vocab_size"],
                     "tokenizer": e["tokenizer"], "objective": e["objective"], "data": e["data"],
                     "MNLI": e["scores"]["MNLI"], "SST-2": e["scores"]["SST-2"], "split": e["split"],
                     "source": e["source"]})
    return rows


def check_real_config(name: str) -> dict:
    """``full`` profile: download ``config.json`` of ``name`` at its pinned revision
    (``registry.FAMILY_CHECKPOINTS``) and return ``{key: (stored, real)}`` for every key that differs
    (empty = the stored hyperparameters are the real ones).

    A key must be in the file, with the stored value either as written there or as transformers reads it
    (the config class parses some keys: DeBERTa-v3's file spells ``"pos_att_type": "p2c|c2p"``, which
    ``DebertaV2Config`` turns into the stored ``["p2c", "c2p"]``)."""
    import json

    from huggingface_hub import hf_hub_download

    from .registry import FAMILY_CHECKPOINTS

    hub_id, revision = FAMILY_CHECKPOINTS[name]
    path = hf_hub_download(hub_id, "config.json", revision=revision)
    real = json.loads(open(path, encoding="utf-8").read())
    diff = {k: (v, real.get(k)) for k, v in FAMILY[name]["config"].items() if real.get(k) != v}
    if any(k in real for k in diff):        # the same value in the file's own spelling?
        from transformers import AutoConfig

        parsed = AutoConfig.for_model(FAMILY[name]["model_type"]).from_dict(real)
        diff = {k: d for k, d in diff.items() if k not in real or getattr(parsed, k, None) != d[0]}
    return diff


def load_for_classification(name: str, *, num_labels: int = 2, device=None) -> tuple:
    """``full`` profile (lesson 13's GPU cell): ``(model, tokenizer)`` of the family checkpoint ``name`` with a
    new sequence-classification head, at the revision pinned in ``registry.FAMILY_CHECKPOINTS``.

    The same rules as ``models.load_model``: a pinned commit (an unpinned entry says so in the printed
    provenance line), safetensors when that revision has them (transformers' default order: it falls
    back to ``pytorch_model.bin``, read with torch's ``weights_only`` loader), never remote code."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from . import env
    from .registry import FAMILY_CHECKPOINTS

    if name not in FAMILY_CHECKPOINTS:
        raise KeyError(f"unknown family checkpoint {name!r}; the registry pins: {', '.join(sorted(FAMILY_CHECKPOINTS))}")
    hub_id, revision = FAMILY_CHECKPOINTS[name]
    tok = AutoTokenizer.from_pretrained(hub_id, revision=revision, trust_remote_code=False)
    model = AutoModelForSequenceClassification.from_pretrained(hub_id, revision=revision, num_labels=num_labels,
                                                               trust_remote_code=False)
    if device is not None:
        model.to(device)
    env.record_source("model", name, "hub", f"{hub_id} @ {revision or 'main'}",
                      f"sequence classifier, new {num_labels}-label head; "
                      + (f"pinned revision {revision[:7]}" if revision else "UNPINNED: no commit id is recorded"))
    return model, tok


# ---------------------------------------------------------------- tokenizers

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_tokenizers(texts: Sequence[str], vocab_size: int = 8000) -> dict:
    """Train the three subword algorithms of the family on the **same** ``texts`` with ``tokenizers``:

    - ``byte-level BPE`` (RoBERTa, GPT-2): bytes as the alphabet, so there is **no unknown token**;
    - ``WordPiece`` (BERT, ELECTRA): characters as the alphabet, ``##`` continuations, [UNK] for unseen characters;
    - ``Unigram`` (SentencePiece, as ALBERT, KoBERT, DeBERTa-v3): a probabilistic vocabulary pruned from
      a large seed set, ``▁`` marks a word start (Metaspace), [UNK] for unseen characters.

    Returns ``{name: tokenizers.Tokenizer}``. Deterministic enough for counts (the BPE/WordPiece
    tie-break caveat of ``course_utils.wordpiece`` applies: a rerun can move a count by a token or two)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers  # noqa: I001

    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    out = {}
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "<unk>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                       show_progress=False))
    out["byte-level BPE"] = bpe
    wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wp.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wp.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIALS,
                                                            limit_alphabet=1500, show_progress=False))
    out["WordPiece"] = wp
    uni = Tokenizer(models.Unigram())
    uni.normalizer = normalizers.NFKC()
    uni.pre_tokenizer = pre_tokenizers.Metaspace()
    uni.decoder = decoders.Metaspace()
    uni.train_from_iterator(texts, trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=SPECIALS,
                                                           unk_token="[UNK]", show_progress=False))
    out["Unigram"] = uni
    return out


TOKENIZER_FILES = {"byte-level BPE": "bpe.json", "WordPiece": "wordpiece.json", "Unigram": "unigram.json"}


def comparison_corpus(n_ko: int = 8000, n_en: int = 400, seed: int = 0) -> tuple:
    """``(texts, description)``: the same mixed training text for every tokenizer: ``n_ko`` NSMC train
    reviews + ``n_en`` IMDB train reviews (stratified, seeded; the course fixtures without the mirror)."""
    from . import data

    ko = [t for t in data.load_nsmc("train", n=n_ko, seed=seed)["text"] if t.strip()]
    en = [t for t in data.load_imdb("train", n=n_en, seed=seed)["text"] if t.strip()]
    real = data.is_real("nsmc/train") and data.is_real("imdb/aclImdb")
    return ko + en, (f"{len(ko):,} NSMC train + {len(en):,} IMDB train reviews"
                     f"{'' if real else ' (course fixtures)'}")


def cached_tokenizers(n_ko: int = 8000, n_en: int = 400, vocab_size: int = 8000, seed: int = 0) -> tuple:
    """``(tokenizers, description)``: :func:`train_tokenizers` on :func:`comparison_corpus`, built once and
    cached (``course_utils.cache.publish``) under ``env.cache_dir("family-tokenizers")``."""
    import json

    from tokenizers import Tokenizer

    from . import cache, data, env
    from .tokenizer_builders import digest

    key = {"n_ko": n_ko, "n_en": n_en, "vocab": vocab_size, "seed": seed, "v": 1,
           "real": [data.is_real("nsmc/train"), data.is_real("imdb/aclImdb")],
           "ko": data.standin_texts_id("ko")}
    target = env.cache_dir("family-tokenizers") / digest(key)

    def build(staging):
        texts, desc = comparison_corpus(n_ko, n_en, seed)
        staging.mkdir()
        for name, tk in train_tokenizers(texts, vocab_size).items():
            tk.save(str(staging / TOKENIZER_FILES[name]))
        (staging / "corpus.json").write_text(json.dumps({"description": desc, **key}), encoding="utf-8")

    folder = cache.publish(target, build, what="the lesson-13 tokenizers",
                           valid=lambda p: (p / "corpus.json").is_file())
    desc = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))["description"]
    return {name: Tokenizer.from_file(str(folder / f)) for name, f in TOKENIZER_FILES.items()}, desc


def token_stats(tokenize, texts: Iterable[str], unk: Optional[str]) -> dict:
    """``tokens_per_text`` (mean), ``unk_rate`` (share of tokens equal to ``unk``) and
    ``chars_per_token`` of ``tokenize(text) -> list of token strings`` over ``texts``."""
    n_texts = n_tok = n_unk = n_chars = 0
    for t in texts:
        toks = tokenize(t)
        n_texts += 1
        n_tok += len(toks)
        n_chars += len(t)
        n_unk += sum(1 for x in toks if unk is not None and x == unk)
    if not n_texts or not n_tok:
        raise ValueError("token_stats: no text or no token")
    return {"tokens_per_text": n_tok / n_texts, "unk_rate": n_unk / n_tok, "chars_per_token": n_chars / n_tok,
            "n_texts": n_texts, "n_tokens": n_tok}


def compare_tokenizers(trained: dict, texts_by_lang: dict, extra: Optional[dict] = None) -> list:
    """Rows ``{tokenizer, lang, tokens_per_text, unk_rate, ...}`` for every tokenizer on every language.
    ``trained``: from :func:`train_tokenizers`; ``extra``: ``{label: (tokenize_fn, unk_token)}`` for
    real tokenizers (KoBERT's spiece.model, bert-base-uncased's vocab)."""
    unk_of = {"byte-level BPE": None, "WordPiece": "[UNK]", "Unigram": "[UNK]"}
    fns = {name: ((lambda t, tk=tk: tk.encode(t).tokens), unk_of[name]) for name, tk in trained.items()}
    fns.update(extra or {})
    rows = []
    for name, (fn, unk) in fns.items():
        for lang, texts in texts_by_lang.items():
            rows.append({"tokenizer": name, "lang": lang, **token_stats(fn, texts, unk)})
    return rows


def geometric_mean(xs: Sequence[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


__all__ = ["FAMILY", "KOREAN_SCORES", "KOREAN_SOURCE", "config_object", "count_parameters", "albert_savings",
           "dropped_by_distilbert", "family_table", "check_real_config", "train_tokenizers", "comparison_corpus",
           "cached_tokenizers", "token_stats",
           "compare_tokenizers"]
