"""Check functions for the notebook exercises.

Every exercise cell looks like::

    answer = None          # ← your answer here
    course_utils.exercises.ex01_cls_id(answer)

A check prints "✅ correct", "❌ …hint…" or "⏳ not answered yet" and returns True/False/None, in the
notebook's language (``course_utils.i18n``: the Korean edition prints "✅ 정답입니다" and Korean hints).
It never raises on a wrong or missing answer, so a notebook still runs top to bottom; the
unit tests in ``tests/test_exercises.py`` prove each check accepts the right answer and
rejects wrong ones. Functions are named ``exNN_*`` after the notebook they belong to.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from .i18n import tr


def _result(ok: bool, hint: str = "") -> bool:
    print(tr("✅ correct", "✅ 정답입니다") if ok else f"{tr('❌ not yet.', '❌ 아직 아닙니다.')} {hint}".rstrip())
    return ok


def check(answer: Any, predicate: Callable[[Any], bool], hint: str = "") -> Optional[bool]:
    """Generic check: ``None`` means not answered yet.

    Feedback speaks the notebook's language (:mod:`course_utils.i18n`): pass the hint as
    ``tr("English hint", "한국어 힌트")`` so the Korean edition (``notebooks/ko/``) prints it in Korean.
    """
    if answer is None:
        print(tr("⏳ not answered yet: replace None with your answer and run the cell again.",
                    "⏳ 아직 답하지 않았습니다: None을 여러분의 답으로 바꾸고 셀을 다시 실행하세요."))
        return None
    try:
        ok = bool(predicate(answer))
    except (TypeError, ValueError) as exc:  # a malformed answer (int("twelve"), list + 1) is a wrong answer
        return _result(False, f"{hint} ({type(exc).__name__}: {exc})")
    # any other exception is a bug in the checker or the notebook, and is raised, not hidden as "wrong"
    return _result(ok, hint)


# ---------------------------------------------------------------- 00 setup

def ex00_profile(answer) -> Optional[bool]:
    """00: which profile does ``course_utils.active_profile()`` resolve to right now?"""
    from .env import active_profile

    return check(answer, lambda a: str(a).strip().lower() == active_profile(),
                 tr("Run course_utils.active_profile() and compare.",
                    "course_utils.active_profile()의 결과와 비교해 보세요."))


def ex00_hidden_size(answer, model=None) -> Optional[bool]:
    """00: the hidden size of the model you loaded (read it from ``model.config``)."""
    return check(answer, lambda a: model is not None and int(a) == model.config.hidden_size,
                 tr("Look at model.config.hidden_size (it is the last dimension of last_hidden_state).",
                    "model.config.hidden_size를 보세요 (last_hidden_state의 마지막 차원입니다)."))


def ex00_num_special(answer, token_ids=None, tokenizer=None) -> Optional[bool]:
    """00: how many special tokens did the tokenizer add to a single sentence?"""
    def ok(a):
        n = sum(1 for t in token_ids if t in set(tokenizer.all_special_ids))
        return int(a) == n
    return check(answer, ok, tr("Count [CLS] and [SEP] in the ids (tokenizer.all_special_ids lists them).",
                    "id 중에서 [CLS]와 [SEP]를 세어 보세요 (tokenizer.all_special_ids에 목록이 있습니다)."))


# ---------------------------------------------------------------- 01 tokenization

def ex01_pieces(answer, tokenizer=None, word: str = "") -> Optional[bool]:
    """01: the WordPiece pieces of ``word`` (a list of strings, ``##`` marks a continuation)."""
    return check(answer, lambda a: list(a) == tokenizer.tokenize(word),
                 tr(f"Write the pieces of {word!r} in order; continuation pieces start with '##'.",
                    f"{word!r}의 조각을 순서대로 쓰세요. 이어지는 조각은 '##'로 시작합니다."))


def ex01_attention_mask(answer, tokenizer=None, text: str = "", max_length: int = 8) -> Optional[bool]:
    """01: the attention mask of ``text`` padded to ``max_length`` (1 = real token, 0 = [PAD])."""
    def ok(a):
        want = tokenizer(text, padding="max_length", truncation=True, max_length=max_length)["attention_mask"]
        return [int(x) for x in a] == want
    return check(answer, ok, tr("Count the tokens including [CLS] and [SEP]; those are 1, the padding is 0.",
                    "[CLS]와 [SEP]를 포함해 토큰 수를 세세요. 그 자리는 1, 패딩은 0입니다."))


def ex01_token_type_ids(answer, tokenizer=None, first: str = "", second: str = "") -> Optional[bool]:
    """01: the ``token_type_ids`` of the pair (``first``, ``second``)."""
    def ok(a):
        return [int(x) for x in a] == tokenizer(first, second)["token_type_ids"]
    return check(answer, ok, tr("Segment A is [CLS] A [SEP] (type 0); segment B is B [SEP] (type 1).",
                    "세그먼트 A는 [CLS] A [SEP] (타입 0), 세그먼트 B는 B [SEP] (타입 1)입니다."))


# ---------------------------------------------------------------- 02 masked LM

def ex02_expected_counts(answer, n_tokens: int = 1000) -> Optional[bool]:
    """02: expected (selected, [MASK], random, kept) counts for ``n_tokens`` candidate tokens."""
    want = (0.15 * n_tokens, 0.15 * 0.8 * n_tokens, 0.15 * 0.1 * n_tokens, 0.15 * 0.1 * n_tokens)

    def ok(a):
        vals = [float(x) for x in (a.values() if isinstance(a, dict) else a)]
        return len(vals) == 4 and all(abs(v - w) <= 0.5 for v, w in zip(vals, want))
    return check(answer, ok, tr("15 % are selected; of those 80 % → [MASK], 10 % → random token, 10 % unchanged.",
                    "15 %를 고릅니다. 그중 80 %는 [MASK], 10 %는 무작위 토큰, 10 %는 그대로 둡니다."))


def ex02_mlm_loss(answer, logits=None, labels=None) -> Optional[bool]:
    """02: the MLM loss of (``logits``, ``labels``) computed by hand (a float)."""
    from .pretraining import mlm_loss_by_hand

    def ok(a):
        return abs(float(a) - float(mlm_loss_by_hand(logits, labels))) <= 1e-4 * max(1.0, abs(float(a)))
    return check(answer, ok, tr("Average -log softmax(logits)[label] over the positions whose label is not -100.",
                    "레이블이 -100이 아닌 위치에서 -log softmax(logits)[label]의 평균을 구하세요."))


def ex02_top1(answer, predictions=None) -> Optional[bool]:
    """02: the top-1 token of a fill-mask result (list of dicts from the pipeline, best first)."""
    return check(answer, lambda a: str(a).strip() == predictions[0]["token_str"].strip(),
                 tr("The pipeline sorts by score: look at the first entry's token_str.",
                    "파이프라인은 점수 순으로 정렬합니다. 첫 항목의 token_str을 보세요."))


# ---------------------------------------------------------------- 03 next-sentence prediction

def ex03_isnext_label(answer) -> Optional[bool]:
    """03: which label id means "sentence B follows A" for BertForNextSentencePrediction?"""
    from .pretraining import IS_NEXT

    return check(answer, lambda a: not isinstance(a, bool) and int(a) == IS_NEXT,
                 tr("Read the docstring of BertForNextSentencePrediction (labels: 0 or 1).",
                    "BertForNextSentencePrediction의 docstring을 읽어 보세요 (labels: 0 또는 1)."))


def ex03_notnext_pair(answer, paragraphs=None) -> Optional[bool]:
    """03: a NotNext pair ``(a, b)`` built from ``paragraphs``: both sentences from the corpus, b from
    another paragraph than a."""
    def ok(a):
        first, second = a
        where = {s: i for i, p in enumerate(paragraphs) for s in p}
        return first in where and second in where and where[first] != where[second]
    return check(answer, ok, tr("Take sentence A from one paragraph and sentence B from a different one.",
                    "문장 A는 한 문단에서, 문장 B는 다른 문단에서 가져오세요."))


def ex03_p_isnext(answer, probs=None) -> Optional[bool]:
    """03: P(IsNext) for the first pair of ``probs`` (the ``[n, 2]`` softmax of NSP logits)."""
    return check(answer, lambda a: abs(float(a) - float(probs[0][0])) <= 1e-3,
                 tr("Softmax over the two logits; column 0 is IsNext.",
                    "두 로짓에 소프트맥스를 적용하세요. 0번 열이 IsNext입니다."))


def ex03_roberta(answer) -> Optional[bool]:
    """03: multiple choice, why did RoBERTa drop NSP? (a letter)."""
    return check(answer, lambda a: str(a).strip().lower().strip("()") == "b",
                 tr("Think of what Liu et al. (2019) measured when they removed the NSP loss.",
                    "Liu 외(2019)가 NSP 손실을 뺐을 때 무엇을 측정했는지 떠올려 보세요."))


# ---------------------------------------------------------------- 04 attention visualisation

def ex04_num_attention_maps(answer, model=None) -> Optional[bool]:
    """04: how many attention maps (one per layer and head) does one forward pass of ``model`` give?"""
    def ok(a):
        return not isinstance(a, bool) and int(a) == model.config.num_hidden_layers * model.config.num_attention_heads
    return check(answer, ok, tr("One [tokens × tokens] map per head in every layer: multiply two numbers of model.config.",
                    "모든 층의 헤드마다 [토큰 × 토큰] 맵이 하나씩 있습니다. model.config의 두 수를 곱하세요."))


def ex04_row_sum(answer) -> Optional[bool]:
    """04: what does every row of an attention matrix sum to?"""
    return check(answer, lambda a: not isinstance(a, bool) and abs(float(a) - 1.0) < 1e-6,
                 tr("Each row is a softmax over the keys.",
                    "각 행은 키(key)들에 대한 소프트맥스입니다."))


def ex04_best_head(answer, scores=None) -> Optional[bool]:
    """04: the ``(layer, head)`` with the highest score in a ``[layers, heads]`` array (0-based)."""
    import numpy as np

    def ok(a):
        layer, head = (int(x) for x in a)
        s = np.asarray(scores)
        if not (0 <= layer < s.shape[0] and 0 <= head < s.shape[1]):
            raise ValueError(f"({layer}, {head}) is outside the {s.shape[0]} layers × {s.shape[1]} heads")
        return s[layer, head] == s.max()
    return check(answer, ok, tr("np.unravel_index(scores.argmax(), scores.shape) gives (layer, head).",
                    "np.unravel_index(scores.argmax(), scores.shape)가 (층, 헤드)를 알려 줍니다."))


def ex04_eager(answer) -> Optional[bool]:
    """04: which ``attn_implementation`` returns attention weights in transformers 5?"""
    return check(answer, lambda a: str(a).strip().strip("'\"").lower() == "eager",
                 tr("sdpa returns an empty tuple of attentions; the plain PyTorch implementation does not.",
                    "sdpa는 어텐션 자리에 빈 튜플을 돌려줍니다. 평범한 PyTorch 구현은 그렇지 않습니다."))


# ---------------------------------------------------------------- 05 embeddings

def ex05_num_hidden_states(answer, model=None) -> Optional[bool]:
    """05: how many entries does ``outputs.hidden_states`` have for ``model``?"""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == model.config.num_hidden_layers + 1,
                 tr("One per encoder layer, plus the output of the embedding layer.",
                    "인코더 층마다 하나씩, 여기에 임베딩 층의 출력 하나를 더합니다."))


def ex05_concat_dim(answer, model=None) -> Optional[bool]:
    """05: the size of one token vector when the last four layers are concatenated."""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == 4 * model.config.hidden_size,
                 tr("Concatenation stacks the vectors end to end: 4 × hidden size.",
                    "이어 붙이기(concatenation)는 벡터를 끝과 끝으로 잇습니다: 4 × 은닉 크기."))


def ex05_mean_pool(answer) -> Optional[bool]:
    """05: a function ``f(hidden [B,T,H], attention_mask [B,T]) -> [B,H]`` averaging only the real tokens."""
    def ok(f):
        import torch

        from .embeddings import mean_pool

        gen = torch.Generator().manual_seed(0)
        hidden = torch.randn(3, 5, 4, generator=gen)
        mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
        out = f(hidden, mask)
        return tuple(out.shape) == (3, 4) and torch.allclose(out.float(), mean_pool(hidden, mask), atol=1e-5)
    return check(answer, ok, tr("Multiply by the mask (unsqueeze(-1)), sum over tokens, divide by the number of 1s per row.",
                    "마스크를 곱하고(unsqueeze(-1)), 토큰 축으로 더한 뒤, 행마다 1의 개수로 나누세요."))


def ex05_best_combo(answer, accuracies=None) -> Optional[bool]:
    """05: the name of the layer combination with the highest accuracy in ``accuracies`` ({name: acc})."""
    def ok(a):
        best = max(accuracies.values())
        return str(a).strip() in accuracies and accuracies[str(a).strip()] == best
    return check(answer, ok, tr("Read the table: pick the row with the highest test accuracy.",
                    "표를 읽고 테스트 정확도가 가장 높은 행을 고르세요."))


# ---------------------------------------------------------------- 07 fine-tuning with TensorFlow Hub

def ex07_warmup_steps(answer, num_train_steps: int = 0, warmup_fraction: float = 0.1) -> Optional[bool]:
    """07: how many warmup steps does the schedule use (``int(warmup_fraction * num_train_steps)``)?"""
    return check(answer, lambda a: int(a) == int(warmup_fraction * num_train_steps) and float(a) == int(a),
                 tr("Warmup is a fraction of ALL training steps (steps per epoch × epochs), rounded down.",
                    "워밍업은 전체 학습 스텝(에폭당 스텝 × 에폭 수)의 일정 비율이며, 소수점 아래는 버립니다."))


def ex07_lr_at_step(answer, schedule=None, step: int = 0) -> Optional[bool]:
    """07: the learning rate the warmup/decay ``schedule`` gives at ``step`` (relative tolerance 1 %)."""
    def ok(a):
        expected = float(schedule(step))
        return abs(float(a) - expected) <= 0.01 * abs(expected) + 1e-12
    return check(answer, ok, tr("During warmup the rate grows linearly from 0 to init_lr: "
                             "init_lr × step / num_warmup_steps.",
                    "워밍업 동안 학습률은 0에서 init_lr까지 선형으로 커집니다: init_lr × step / num_warmup_steps."))


def ex07_pooled_shape(answer, batch_size: int = 0, hidden_size: int = 0) -> Optional[bool]:
    """07: the shape of ``pooled_output`` for a batch of ``batch_size`` sentences."""
    return check(answer, lambda a: tuple(int(x) for x in a) == (batch_size, hidden_size),
                 tr("pooled_output has one vector per sentence: (batch size, hidden size). "
                    "The sequence length is gone (that is sequence_output).",
                    ("pooled_output은 문장마다 벡터 하나입니다: (배치 크기, 은닉 크기). "
                     "시퀀스 길이 축은 없습니다 (그것은 sequence_output입니다).")))


def ex07_num_pieces(answer, pieces=None) -> Optional[bool]:
    """07: how many wordpieces (without [CLS]/[SEP]) the English-only vocab makes of a Korean word."""
    def ok(a):
        n = sum(1 for p in pieces if p not in ("[CLS]", "[SEP]", "[PAD]"))
        return int(a) == n
    return check(answer, ok, tr("Print the pieces and count them, leaving out [CLS] and [SEP]. "
                             "Each Hangul syllable is split into its jamo first (NFD).",
                    ("조각을 출력해 [CLS]와 [SEP]를 빼고 세어 보세요. "
                     "한글 음절은 먼저 자모로 분해됩니다 (NFD).")))


# ---------------------------------------------------------------- 06 fine-tuning IMDB (PyTorch)

def ex06_num_windows(answer, n_tokens: int = 1000, max_length: int = 512, stride: int = 255) -> Optional[bool]:
    """06: how many sliding windows cover ``n_tokens`` text tokens (``course_utils.longtext.num_windows``)?"""
    from .longtext import num_windows

    return check(answer, lambda a: not isinstance(a, bool) and float(a) == num_windows(n_tokens, max_length, stride),
                 tr(f"A window holds max_length - 2 = {max_length - 2} text tokens; windows start every {stride} "
                    "tokens and the last one ends exactly at the end of the review.",
                    (f"창 하나에는 max_length - 2 = {max_length - 2}개의 텍스트 토큰이 들어갑니다. 창은 {stride} 토큰마다 "
                     "시작하고, 마지막 창은 리뷰의 끝에서 정확히 끝납니다.")))


def ex06_tail_tokens(answer, max_length: int = 512, head: int = 128) -> Optional[bool]:
    """06: how many tail tokens does head+tail keep with ``max_length`` and ``head``?"""
    return check(answer, lambda a: not isinstance(a, bool) and float(a) == max_length - 2 - head,
                 tr("Start from max_length, take away [CLS] and [SEP], then the head tokens.",
                    "max_length에서 [CLS]와 [SEP]를 빼고, 다시 앞부분(head) 토큰 수를 빼세요."))


def ex06_long_baseline(answer, labels=None) -> Optional[bool]:
    """06: the majority-baseline accuracy of ``labels`` (the long-review subset), as a fraction."""
    from .train import majority_baseline

    return check(answer, lambda a: abs(float(a) - majority_baseline(labels)) <= 1e-3,
                 tr("Count the most frequent label and divide by the number of reviews "
                    "(train.majority_baseline does it); answer a fraction such as 0.52, not a percentage.",
                    ("가장 많은 레이블의 개수를 세어 리뷰 수로 나누세요 (train.majority_baseline이 해 줍니다). "
                     "백분율이 아니라 0.52 같은 비율로 답하세요.")))


def ex06_t4_dtype(answer) -> Optional[bool]:
    """06: the mixed-precision dtype the course uses on a T4 GPU (it has no bf16 support)."""
    def ok(a):
        return str(a).strip().lower().replace("torch.", "") in ("float16", "fp16", "half")
    return check(answer, ok, tr("The T4 is a Turing GPU: bf16 needs Ampere or newer, so course_utils.device.amp_dtype "
                             "falls back to the other 16-bit float.",
                    ("T4는 Turing GPU입니다. bf16은 Ampere 이상이 필요하므로 course_utils.device.amp_dtype은 "
                     "다른 16비트 부동소수점 형식을 씁니다.")))


# ---------------------------------------------------------------- 08 NSMC with KoBERT

def ex08_pad_id(answer, tokenizer=None) -> Optional[bool]:
    """08: the id KoBERT's tokenizer pads with (an int)."""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == tokenizer.pad_token_id,
                 tr("Look at tokenizer.pad_token_id, or at the ids of a padded batch where attention_mask is 0.",
                    "tokenizer.pad_token_id를 보거나, 패딩된 배치에서 attention_mask가 0인 자리의 id를 보세요."))


def ex08_duplicates_removed(answer, report=None) -> Optional[bool]:
    """08: how many duplicate rows ``dedupe=True`` removed (read it from a ``data_quality.text_quality`` report)."""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == int(report["duplicate_rows"]),
                 tr("The raw train report has a 'duplicate_rows' entry: rows that repeat an earlier row's text.",
                    "원본 학습 데이터 보고서의 'duplicate_rows' 항목: 앞 행과 같은 텍스트를 되풀이하는 행의 수입니다."))


def ex08_classifier_shape(answer, model=None) -> Optional[bool]:
    """08: the shape of ``model.classifier.weight`` as ``(out_features, in_features)``."""
    def ok(a):
        return tuple(int(x) for x in a) == tuple(model.classifier.weight.shape)
    return check(answer, ok, tr("A linear layer's weight is (number of labels, size of its input); the input is "
                             "the pooled output, of size model.config.hidden_size.",
                    ("선형 층의 가중치 모양은 (레이블 수, 입력 크기)입니다. 입력은 풀링 출력이고, "
                     "크기는 model.config.hidden_size입니다.")))


def ex08_majority_baseline(answer, labels=None) -> Optional[bool]:
    """08: the accuracy of always answering the most frequent label in ``labels`` (a float)."""
    from .train import majority_baseline

    return check(answer, lambda a: abs(float(a) - majority_baseline(list(labels))) <= 1e-3,
                 tr("Count each label in the test subset; divide the largest count by the total.",
                    "테스트 부분집합에서 레이블별 개수를 세고, 가장 큰 개수를 전체 수로 나누세요."))


# ---------------------------------------------------------------- 09 KorNLI

def ex09_token_type_ids(answer, tokenizer=None, premise: str = "", hypothesis: str = "") -> Optional[bool]:
    """09: the ``token_type_ids`` of the pair (``premise``, ``hypothesis``) as a list of ints."""
    def ok(a):
        return [int(x) for x in a] == list(tokenizer(premise, hypothesis)["token_type_ids"])
    return check(answer, ok, tr("[CLS] premise [SEP] are segment 0; hypothesis [SEP] are segment 1. "
                             "Count the pieces with tokenizer.tokenize first.",
                    ("[CLS] 전제 [SEP]는 세그먼트 0, 가설 [SEP]는 세그먼트 1입니다. "
                     "먼저 tokenizer.tokenize로 조각 수를 세어 보세요.")))


def ex09_label_id(answer, model=None, label: str = "contradiction") -> Optional[bool]:
    """09: the class id the model uses for ``label`` (read it from the model's config)."""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == int(model.config.label2id[label]),
                 tr("model.config.label2id maps label names to ids (and id2label the other way).",
                    "model.config.label2id는 레이블 이름을 id로 바꿉니다 (id2label은 그 반대입니다)."))


def ex09_recall(answer, y_true=None, y_pred=None, label_id: int = 2) -> Optional[bool]:
    """09: the recall of class ``label_id``: correct predictions of it / all examples that truly are it."""
    def ok(a):
        import numpy as np

        t, p = np.asarray(list(y_true)), np.asarray(list(y_pred))
        want = float((p[t == label_id] == label_id).mean())
        return abs(float(a) - want) <= 1e-3
    return check(answer, ok, tr("Recall = true positives / (true positives + false negatives): look at the row "
                             "of that label in the confusion matrix, or at classification_report.",
                    ("재현율 = 참 양성 / (참 양성 + 거짓 음성). 혼동 행렬에서 그 레이블의 행을 보거나 "
                     "classification_report를 보세요.")))


# ---------------------------------------------------------------- 10 inside BERT and pre-training

def ex10_embedding_params(answer, config=None) -> Optional[bool]:
    """10: parameters of BERT's embedding block (word + position + token type tables + LayerNorm) for ``config``."""
    def ok(a):
        c = config
        want = (c.vocab_size + c.max_position_embeddings + c.type_vocab_size) * c.hidden_size + 2 * c.hidden_size
        return not isinstance(a, bool) and int(a) == want
    return check(answer, ok, tr("Three tables of hidden_size columns (vocab_size, max_position_embeddings and "
                                "type_vocab_size rows) plus LayerNorm's weight and bias (hidden_size each).",
                                "열이 hidden_size개인 표 세 개(행 수는 vocab_size, max_position_embeddings, "
                                "type_vocab_size)에 LayerNorm의 가중치와 편향(각각 hidden_size개)을 더합니다."))


def ex10_head_dim(answer, config=None) -> Optional[bool]:
    """10: the size of one attention head (hidden_size / num_attention_heads) of ``config``."""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == config.hidden_size // config.num_attention_heads
                 and float(a) == int(a),
                 tr("The heads split the hidden vector evenly: hidden_size divided by num_attention_heads.",
                    "헤드들은 은닉 벡터를 똑같이 나눠 가집니다: hidden_size를 num_attention_heads로 나누세요."))


def ex10_most_frequent_baseline(answer, eval_set=None, counts=None) -> Optional[bool]:
    """10: the masked-token accuracy of always answering the most frequent training token."""
    def ok(a):
        top = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0]
        labels = eval_set["labels"][eval_set["labels"] != -100]
        want = float((labels == top).float().mean())
        return not isinstance(a, bool) and abs(float(a) - want) <= 1e-4
    return check(answer, ok, tr("Take the most common id in counts; the accuracy is the share of masked positions "
                                "(labels != -100) whose label is that id.",
                                "counts에서 가장 흔한 id를 고르세요. 정확도는 마스크된 위치(labels != -100) 가운데 "
                                "레이블이 그 id인 위치의 비율입니다."))


# ---------------------------------------------------------------- 11 domain adaptation

def ex11_perplexity(answer, loss: float = 0.0) -> Optional[bool]:
    """11: the perplexity of a masked LM whose mean cross-entropy at the masked positions is ``loss`` (nats)."""
    import math

    return check(answer, lambda a: not isinstance(a, bool) and math.isclose(float(a), math.exp(loss), rel_tol=5e-3),
                 tr("Perplexity is exp(mean cross-entropy), with the loss in nats: math.exp(loss).",
                    "퍼플렉서티는 exp(평균 교차 엔트로피)입니다 (손실은 nat 단위): math.exp(loss)."))


def ex11_mean_sd(answer, values=()) -> Optional[bool]:
    """11: ``(mean, sample standard deviation)`` of the accuracies ``values`` of several seeds."""
    from .domain_adaptation import mean_sd

    def ok(a):
        m, sd = (float(x) for x in a)
        want_m, want_sd = mean_sd(values)
        return abs(m - want_m) <= 1e-3 and abs(sd - want_sd) <= 1e-3
    return check(answer, ok, tr("Answer a pair (mean, sd); the sample sd divides by n - 1 (numpy: np.std(v, ddof=1)).",
                                "(평균, 표준편차) 쌍으로 답하세요. 표본 표준편차는 n - 1로 나눕니다 (np.std(v, ddof=1))."))


def ex11_tapt_split(answer) -> Optional[bool]:
    """11: which split's text may task-adaptive pre-training use (``"train"``; the test text is the evaluation set)."""
    return check(answer, lambda a: isinstance(a, str) and a.strip().lower() in ("train", "training", "the train split"),
                 tr("Pre-training on the test text, even without its labels, means the model has seen the test set.",
                    "레이블 없이라도 테스트 텍스트로 사전 학습하면 모델이 테스트 세트를 본 셈입니다."))


# ---------------------------------------------------------------- 14 fine-tuning strategies and beyond

def ex14_hidden_index(answer, layer: int = 6) -> Optional[bool]:
    """14: the index of ``hidden_states`` that holds the output of encoder layer ``layer`` (1-based)."""
    return check(answer, lambda a: not isinstance(a, bool) and float(a) == layer,
                 tr("hidden_states[0] is the embedding layer's output, so encoder layer i is at index i.",
                    "hidden_states[0]은 임베딩 층의 출력이므로 i번째 인코더 층은 인덱스 i에 있습니다."))


def ex14_llrd_lr(answer, lr: float = 2e-5, decay: float = 0.95, num_layers: int = 12, layer: int = 1) -> Optional[bool]:
    """14: the learning rate of encoder layer ``layer`` (1-based) under layer-wise decay from the top."""
    want = lr * decay ** (num_layers + 1 - layer)
    return check(answer, lambda a: not isinstance(a, bool) and abs(float(a) - want) <= 1e-3 * want,
                 tr("The pooler gets lr; each layer below it one more factor of decay: lr · decay^(L+1-i).",
                    "pooler는 lr, 그 아래 층마다 decay를 한 번 더 곱합니다: lr · decay^(L+1-i)."))


def ex14_head_params(answer, hidden_size: int = 768, num_labels: int = 2) -> Optional[bool]:
    """14: the trainable parameters of head-only fine-tuning (one linear layer hidden → labels)."""
    return check(answer, lambda a: not isinstance(a, bool) and float(a) == hidden_size * num_labels + num_labels,
                 tr("A linear layer has hidden_size × num_labels weights plus num_labels biases.",
                    "선형 층의 파라미터는 hidden_size × num_labels 가중치와 num_labels 편향입니다."))


def ex14_align(answer, word_ids=(None, 0, 1, 1, 2, None), word_labels=(1, 0, 3)) -> Optional[bool]:
    """14: the per-piece labels (first piece of each word labelled, the rest and special tokens -100)."""
    from .token_tasks import align_word_labels

    want = align_word_labels(list(word_ids), list(word_labels))
    return check(answer, lambda a: [int(x) for x in a] == want,
                 tr("Special tokens (word id None) and every piece after a word's first get -100.",
                    "특수 토큰(word id None)과 단어의 첫 조각 뒤의 조각은 -100입니다."))


# ---------------------------------------------------------------- 12 distillation and efficiency

def ex12_student_layers(answer, n_layers: int = 12) -> Optional[bool]:
    """12: which teacher layers (0-based) a DistilBERT-style student keeps from an ``n_layers`` teacher."""
    from .distillation import every_other_layer

    return check(answer, lambda a: not isinstance(a, (str, bool)) and [int(x) for x in a] == every_other_layer(n_layers),
                 tr("One layer out of two, starting with the first: distillation.every_other_layer(n).",
                    "첫 층부터 두 층에 하나씩: distillation.every_other_layer(n)."))


def ex12_soft_targets(answer, logits=(2.0, 0.0), temperature: float = 2.0) -> Optional[bool]:
    """12: the teacher's soft targets, ``softmax(logits / T)``, as a list of probabilities."""
    import numpy as np

    z = np.asarray(logits, dtype=float) / float(temperature)
    want = np.exp(z - z.max()) / np.exp(z - z.max()).sum()

    def ok(a):
        got = np.asarray([float(x) for x in a])
        return got.shape == want.shape and np.allclose(got, want, atol=2e-3)
    return check(answer, ok, tr("Divide the logits by T first, then take the softmax.",
                                "로짓을 먼저 T로 나눈 다음 소프트맥스를 취하세요."))


def ex12_speedup(answer, rows=(), teacher: str = "", variant: str = "") -> Optional[bool]:
    """12: how many times faster at batch 1 ``variant`` is than ``teacher`` in the harness table ``rows``."""
    from .efficiency import ratios

    want = ratios(list(rows), teacher, variant)["speedup_batch1"] if rows else float("nan")
    return check(answer, lambda a: not isinstance(a, bool) and abs(float(a) - want) <= 0.02 * want,
                 tr("Teacher latency ÷ variant latency (batch 1), from the latency_ms column.",
                    "교사 지연 시간 ÷ 변형 지연 시간 (배치 1), latency_ms 열에서 읽으세요."))


def ex12_scaler_dtype(answer) -> Optional[bool]:
    """12: which autocast dtype needs ``torch.amp.GradScaler``: ``"float16"`` (bf16 has fp32's exponent range)."""
    def ok(a):
        return str(a).strip().lower().replace("torch.", "") in ("float16", "fp16", "half")
    return check(answer, ok, tr("Which 16-bit format has only 5 exponent bits, so small gradients underflow to 0?",
                                "지수 비트가 5개뿐이라 작은 그래디언트가 0이 되는 16비트 형식은 무엇일까요?"))


def ex12_global_batch(answer, per_process: int = 8, nproc_per_node: int = 2, nnodes: int = 1) -> Optional[bool]:
    """12: the global batch of data-parallel training: per-process batch × processes per node × nodes."""
    return check(answer, lambda a: not isinstance(a, bool) and int(a) == per_process * nproc_per_node * nnodes
                 and float(a) == int(a),
                 tr("Every process takes its own batch; the gradients are averaged over all of them.",
                    "모든 프로세스가 각자 배치를 받고, 그래디언트는 모든 프로세스에 걸쳐 평균됩니다."))


# ---------------------------------------------------------------- 13 the BERT family

def ex13_sharing_saving(answer, config=None) -> Optional[bool]:
    """13: parameters ALBERT saves by sharing one layer across all ``num_hidden_layers`` layers."""
    from .family import albert_savings

    want = albert_savings(config)["saved_by_sharing"] if config is not None else None
    return check(answer, lambda a: not isinstance(a, bool) and want is not None and int(a) == want and float(a) == int(a),
                 tr("One layer is stored instead of L: (L − 1) × the parameters of one layer.",
                    "L개 대신 한 층만 저장합니다: (L − 1) × 한 층의 파라미터 수."))


def ex13_distilbert_dropped(answer, bert_config=None) -> Optional[bool]:
    """13: parameters DistilBERT drops from BERT-base besides the layers: token-type embeddings + pooler."""
    want = (bert_config.type_vocab_size * bert_config.hidden_size + bert_config.hidden_size ** 2
            + bert_config.hidden_size) if bert_config is not None else None
    return check(answer, lambda a: not isinstance(a, bool) and want is not None and int(a) == want and float(a) == int(a),
                 tr("type_vocab_size × H for the token types, plus H × H + H for the pooler.",
                    "토큰 타입 임베딩 type_vocab_size × H, 그리고 풀러 H × H + H."))


def ex13_rtd_steps(answer, budget=None) -> Optional[bool]:
    """13: how many RTD steps cost the same FLOPs as the MLM budget (``electra.equal_flops_steps``)."""
    def ok(a):
        if isinstance(a, bool) or budget is None or float(a) != int(a):
            return False
        want = budget["mlm_steps"] * budget["mlm_per_token"]["total"] / budget["rtd_per_token"]["total"]
        return abs(int(a) - want) <= 1
    return check(answer, ok, tr("MLM steps × MLM FLOPs per token ÷ RTD FLOPs per token (generator included).",
                                "MLM 스텝 × 토큰당 MLM FLOPs ÷ 토큰당 RTD FLOPs (생성기 포함)."))


def ex13_no_unk(answer) -> Optional[bool]:
    """13: which of the three subword algorithms can never output an unknown token: byte-level BPE."""
    def ok(a):
        s = str(a).strip().lower().replace("-", " ").replace("_", " ")
        return "byte" in s and "bpe" in s
    return check(answer, ok, tr("Which one starts from the 256 bytes, so every string can be written?",
                                "256개의 바이트에서 시작해 어떤 문자열도 쓸 수 있는 것은 무엇일까요?"))
