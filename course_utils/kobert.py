"""KoBERT's tokenizer for transformers 5, on ``sentencepiece`` and skt/kobert-base-v1's ``spiece.model``.

Lessons: ``01_tokenization`` (SentencePiece vs WordPiece) and ``08_finetune_nsmc_kobert``
(fine-tuning KoBERT on NSMC).

Why our own class? SKT's ``kobert_tokenizer.KoBERTTokenizer`` subclasses the *slow* ``XLNetTokenizer``,
which transformers 5 replaced by a Rust (``tokenizers``) class, and ``AutoTokenizer("skt/kobert-base-v1")``
gives XLNet's layout (``A [SEP] [CLS]``, token type **2** on CLS, left padding), which breaks a BERT with
``type_vocab_size=2``. ``kobert-transformers`` pins ``transformers<5``. So this module re-implements the
official behaviour on the plain ``sentencepiece`` package (no ``trust_remote_code``, ever):

* text: strip and collapse whitespace, ```` `` ```` and ``''`` → ``"``, NFKD and drop combining marks
  (``keep_accents=False``, as XLNet/KoBERT did; the model's own ``nmt_nfkc`` normalizer recomposes
  Hangul), no lower-casing; then ``spiece.model`` and XLNet's "digit followed by comma" re-split;
* ``[CLS] A [SEP]`` / ``[CLS] A [SEP] B [SEP]`` with token types 0 (first part) and 1 (second part);
* ids ``[UNK]=0, [PAD]=1, [CLS]=2, [SEP]=3, [MASK]=4``, vocab size 8002, right padding with ``[PAD]``.

>>> tok = KoBERTTokenizer.from_pretrained("skt/kobert-base-v1")        # doctest: +SKIP
>>> tok("한국어 모델을 공유합니다.")["input_ids"]                          # doctest: +SKIP
[2, 4958, 6855, 2046, 7088, 1050, 7843, 54, 3]

:class:`KoBERTTokenizer` subclasses transformers 5's Python tokenizer base
(``transformers.PreTrainedTokenizer`` = ``PythonBackend``), so ``__call__``, ``pad``, truncation, batching,
``return_tensors``, ``DataCollatorWithPadding`` and ``Trainer(processing_class=tok)`` work as usual.
:func:`train_sentencepiece` trains a small KoBERT-style model (same special ids) for offline stand-ins.
"""
from __future__ import annotations

import json
import os
import shutil
import unicodedata
from pathlib import Path
from typing import Any, Iterable, Optional

import sentencepiece as spm
from transformers import PreTrainedTokenizer

from . import registry

SPIECE_UNDERLINE = "▁"
SPIECE_FILE = "spiece.model"
HUB_ID = "skt/kobert-base-v1"
MIRROR_REL = registry.STANDINS["standin-ko-kobert"].tokenizer_mirror   # KoBERT's spiece.model in the mirror
SPECIAL_TOKENS = {"[UNK]": 0, "[PAD]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}
CONFIG_MARKER = "course_utils.kobert.KoBERTTokenizer"
# keys of a tokenizer_config.json (ours or SKT's) that we honour when loading a folder
_CONFIG_KEYS = ("do_lower_case", "remove_space", "keep_accents", "model_max_length", "padding_side",
                "truncation_side", "sp_model_kwargs")
_ADVICE = (
    "Set BERT_COURSE_ASSETS to a mirror folder holding `" + MIRROR_REL + "` (see README, 'Offline and "
    "classroom use'), or load it through `course_utils.models.load_tokenizer('skt/kobert-base-v1')`, "
    "which falls back to a labelled offline stand-in."
)


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, float) and value != value:
        return "NaN (an empty cell read by pandas?)"
    return f"a {type(value).__name__} ({value!r:.40})"


def normalize_text(text: str, remove_space: bool = True, keep_accents: bool = False,
                   do_lower_case: bool = False) -> str:
    """XLNet/KoBERT preprocessing: strip + collapse whitespace, ```` `` ````/``''`` → ``"``, NFKD and drop
    combining marks (unless ``keep_accents``), optional lower-casing. Hangul survives: NFKD splits syllables
    into conjoining jamo (not combining marks) and spiece.model's ``nmt_nfkc`` recomposes them."""
    if remove_space:
        text = " ".join(text.strip().split())
    text = text.replace("``", '"').replace("''", '"')
    if not keep_accents:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    if do_lower_case:
        text = text.lower()
    return text


class KoBERTTokenizer(PreTrainedTokenizer):
    """KoBERT (skt/kobert-base-v1) SentencePiece tokenizer for transformers 5.

    Args:
        vocab_file: path to KoBERT's ``spiece.model`` (or one made by :func:`train_sentencepiece`).
        do_lower_case: lower-case the text (KoBERT: ``False``).
        remove_space: strip and collapse whitespace (KoBERT: ``True``).
        keep_accents: skip NFKD + dropping combining marks (KoBERT: ``False``, i.e. accents are dropped).
        sp_model_kwargs: passed to ``SentencePieceProcessor.encode`` (e.g. ``enable_sampling=True,
            alpha=0.1, nbest_size=-1`` for subword regularisation).
        model_max_length: 512, KoBERT's ``max_position_embeddings``; ``truncation=True`` cuts there.

    Lessons ``01_tokenization`` and ``08_finetune_nsmc_kobert``.
    """

    vocab_files_names = {"vocab_file": SPIECE_FILE}
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]
    padding_side = "right"
    truncation_side = "right"

    def __init__(
        self,
        vocab_file: str | os.PathLike,
        do_lower_case: bool = False,
        remove_space: bool = True,
        keep_accents: bool = False,
        sp_model_kwargs: Optional[dict] = None,
        model_max_length: int = 512,
        unk_token: str = "[UNK]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        bos_token: str = "[CLS]",
        eos_token: str = "[SEP]",
        **kwargs,
    ):
        if vocab_file is None:
            raise TypeError(
                "KoBERTTokenizer needs vocab_file=<path to spiece.model>; got None. "
                "Use KoBERTTokenizer.from_pretrained('skt/kobert-base-v1') or a folder. " + _ADVICE
            )
        path = Path(vocab_file).expanduser()
        if path.is_dir():
            path = path / SPIECE_FILE
        if not path.is_file():
            raise FileNotFoundError(
                f"KoBERT SentencePiece model not found: {str(path)!r}. It must be skt/kobert-base-v1's "
                f"`{SPIECE_FILE}` (371 kB) or one written by course_utils.kobert.train_sentencepiece. " + _ADVICE
            )
        self.vocab_file = str(path)
        self.do_lower_case = do_lower_case
        self.remove_space = remove_space
        self.keep_accents = keep_accents
        self.sp_model_kwargs = dict(sp_model_kwargs or {})
        self.sp_model = spm.SentencePieceProcessor()
        try:
            self.sp_model.Load(self.vocab_file)
        except (OSError, RuntimeError) as exc:
            raise ValueError(
                f"{self.vocab_file!r} is not a SentencePiece model ({exc}). Expected KoBERT's `spiece.model`."
            ) from exc
        self._check_special_ids()
        super().__init__(
            do_lower_case=do_lower_case,
            remove_space=remove_space,
            keep_accents=keep_accents,
            sp_model_kwargs=self.sp_model_kwargs,
            model_max_length=model_max_length,
            unk_token=unk_token,
            sep_token=sep_token,
            pad_token=pad_token,
            cls_token=cls_token,
            mask_token=mask_token,
            bos_token=bos_token,
            eos_token=eos_token,
            **kwargs,
        )

    def _check_special_ids(self) -> None:
        wrong = {p: self.sp_model.PieceToId(p) for p, i in SPECIAL_TOKENS.items()
                 if self.sp_model.PieceToId(p) != i or self.sp_model.IdToPiece(i) != p}
        if wrong:
            raise ValueError(
                f"{self.vocab_file!r} is not a KoBERT-style SentencePiece model: special pieces must have ids "
                f"{SPECIAL_TOKENS}, but found {wrong}. Use skt/kobert-base-v1's spiece.model or train one "
                "with course_utils.kobert.train_sentencepiece."
            )

    # ------------------------------------------------------------------ pickling (datasets.map hashes us)
    def __getstate__(self):
        state = self.__dict__.copy()
        state["sp_model"] = None
        state["_sp_proto"] = self.sp_model.serialized_model_proto()
        return state

    def __setstate__(self, state):
        proto = state.pop("_sp_proto")
        self.__dict__ = state
        self.sp_model = spm.SentencePieceProcessor()
        self.sp_model.LoadFromSerializedProto(proto)

    # ------------------------------------------------------------------ vocabulary
    @property
    def vocab_size(self) -> int:
        return self.sp_model.GetPieceSize()

    def get_vocab(self) -> dict[str, int]:
        vocab = {self.sp_model.IdToPiece(i): i for i in range(self.vocab_size)}
        vocab.update(getattr(self, "_added_tokens_encoder", {}))
        return vocab

    def _convert_token_to_id(self, token: str) -> int:
        return self.sp_model.PieceToId(token)

    def _convert_id_to_token(self, index: int) -> str:
        if not 0 <= index < self.vocab_size:
            raise IndexError(f"token id {index} is outside KoBERT's vocabulary (0…{self.vocab_size - 1}).")
        return self.sp_model.IdToPiece(index)

    # ------------------------------------------------------------------ text → pieces
    def preprocess_text(self, text: str) -> str:
        """KoBERT/XLNet normalisation (see :func:`normalize_text`) with this tokenizer's settings."""
        return normalize_text(text, remove_space=self.remove_space, keep_accents=self.keep_accents,
                              do_lower_case=self.do_lower_case)

    def _tokenize(self, text: str, **kwargs) -> list[str]:
        text = self.preprocess_text(text)
        pieces = self.sp_model.encode(text, out_type=str, **self.sp_model_kwargs)
        new_pieces: list[str] = []
        for piece in pieces:
            # XLNet: "1,000," style pieces are re-split so a trailing comma is its own piece
            if len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit():
                cur = self.sp_model.encode(piece[:-1].replace(SPIECE_UNDERLINE, ""), out_type=str)
                if piece[0] != SPIECE_UNDERLINE and cur and cur[0][0] == SPIECE_UNDERLINE:
                    if len(cur[0]) == 1:
                        cur = cur[1:]
                    else:
                        cur[0] = cur[0][1:]
                cur.append(piece[-1])
                new_pieces.extend(cur)
            else:
                new_pieces.append(piece)
        return new_pieces

    def tokenize(self, text: str, **kwargs) -> list[str]:
        if not isinstance(text, str):
            raise TypeError(f"KoBERTTokenizer.tokenize expects a str, got {_describe(text)}.")
        return super().tokenize(text, **kwargs)

    # ------------------------------------------------------------------ pieces → text
    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Join pieces, ``▁`` → space; special tokens are kept apart by single spaces."""
        special = set(self.all_special_tokens)
        out, run = [], []
        for tok in tokens:
            if tok in special:
                if run:
                    out.append("".join(run).replace(SPIECE_UNDERLINE, " ").strip())
                    run = []
                out.append(tok)
            else:
                run.append(tok)
        if run:
            out.append("".join(run).replace(SPIECE_UNDERLINE, " ").strip())
        return " ".join(s for s in out if s)

    # ------------------------------------------------------------------ special tokens and token types
    def build_inputs_with_special_tokens(self, token_ids_0: list[int], token_ids_1: Optional[list[int]] = None
                                         ) -> list[int]:
        """``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]`` (BERT layout, not XLNet's)."""
        cls, sep = [self.cls_token_id], [self.sep_token_id]
        if token_ids_1 is None:
            return cls + list(token_ids_0) + sep
        return cls + list(token_ids_0) + sep + list(token_ids_1) + sep

    def create_token_type_ids_from_sequences(self, token_ids_0: list[int],
                                             token_ids_1: Optional[list[int]] = None) -> list[int]:
        """0 for ``[CLS] A [SEP]``, 1 for ``B [SEP]`` (never XLNet's 2)."""
        first = [0] * (len(token_ids_0) + 2)
        if token_ids_1 is None:
            return first
        return first + [1] * (len(token_ids_1) + 1)

    def get_special_tokens_mask(self, token_ids_0: list[int], token_ids_1: Optional[list[int]] = None,
                                already_has_special_tokens: bool = False) -> list[int]:
        if already_has_special_tokens:
            if token_ids_1 is not None:
                raise ValueError("token_ids_1 must be None when already_has_special_tokens=True.")
            special = set(self.all_special_ids)
            return [1 if t in special else 0 for t in token_ids_0]
        if token_ids_1 is None:
            return [1] + [0] * len(token_ids_0) + [1]
        return [1] + [0] * len(token_ids_0) + [1] + [0] * len(token_ids_1) + [1]

    # ------------------------------------------------------------------ clear errors on bad input
    def __call__(self, text=None, text_pair=None, *args, **kwargs):
        if text is None and kwargs.get("text_target") is None:
            raise TypeError(
                "KoBERTTokenizer got text=None. Pass a str or a list of str; empty documents "
                "(e.g. the 8 empty NSMC reviews) should be dropped or replaced by '' first."
            )
        return super().__call__(text, text_pair, *args, **kwargs)

    def _encode_plus(self, text, text_pair=None, *args, **kwargs):
        self._check_input(text, "text")
        if text_pair is not None:
            self._check_input(text_pair, "text_pair")
        return super()._encode_plus(text, text_pair, *args, **kwargs)

    @staticmethod
    def _check_input(value, name: str) -> None:
        if value is None:
            raise TypeError(f"KoBERTTokenizer: {name} is None; pass a str or a list of str.")
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if item is None or (isinstance(item, float)):
                    raise TypeError(
                        f"KoBERTTokenizer: {name}[{i}] is {_describe(item)}, not a str. Drop empty rows or "
                        "fill them with '' first (NSMC has 8 empty documents; read it with quoting=3)."
                    )
        elif not isinstance(value, str):
            raise TypeError(f"KoBERTTokenizer: {name} must be a str or a list of str, got {_describe(value)}.")

    # ------------------------------------------------------------------ saving and loading
    def save_vocabulary(self, save_directory: str, filename_prefix: Optional[str] = None) -> tuple[str]:
        if not os.path.isdir(save_directory):
            raise NotADirectoryError(f"save_vocabulary: {save_directory!r} is not a folder.")
        out = os.path.join(save_directory, (filename_prefix + "-" if filename_prefix else "") + SPIECE_FILE)
        if os.path.isfile(self.vocab_file):
            if os.path.abspath(self.vocab_file) != os.path.abspath(out):
                shutil.copyfile(self.vocab_file, out)
        else:  # the original file is gone (e.g. unpickled elsewhere): write the in-memory model
            with open(out, "wb") as f:
                f.write(self.sp_model.serialized_model_proto())
        return (out,)

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Write ``spiece.model`` and our ``tokenizer_config.json`` (reload with :meth:`from_pretrained`)."""
        files = super().save_pretrained(save_directory, *args, **kwargs)
        prefix = kwargs.get("filename_prefix") or (args[1] if len(args) > 1 else None)
        cfg_path = Path(save_directory) / ((prefix + "-" if prefix else "") + "tokenizer_config.json")
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        cfg["tokenizer_class"] = "KoBERTTokenizer"
        cfg["course_utils_class"] = CONFIG_MARKER
        cfg["note"] = ("Load with course_utils.kobert.KoBERTTokenizer.from_pretrained(folder); "
                       "AutoTokenizer does not know this class and trust_remote_code is never needed.")
        cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        return files

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike = HUB_ID, *,
                        revision: Optional[str] = None, cache_dir: Optional[str | os.PathLike] = None,
                        local_files_only: Optional[bool] = None, **kwargs) -> "KoBERTTokenizer":
        """Load from a folder (``spiece.model`` [+ ``tokenizer_config.json``]), a ``.model`` file or a hub id.

        A hub id (default ``skt/kobert-base-v1``) downloads **only** ``spiece.model`` with
        ``huggingface_hub.hf_hub_download`` at ``revision``; SKT's remote tokenizer code is never used.
        Offline (``BERT_COURSE_PROFILE=offline`` or no network) it raises
        :class:`course_utils.env.AssetNotFoundError` saying what to do.
        """
        if kwargs.pop("trust_remote_code", False):
            raise ValueError("KoBERTTokenizer never uses trust_remote_code; drop that argument.")
        for ignored in ("use_fast", "token", "force_download"):
            kwargs.pop(ignored, None)
        if pretrained_model_name_or_path is None:
            raise TypeError("from_pretrained(None): pass a folder, a spiece.model path or 'skt/kobert-base-v1'.")
        src = Path(os.fspath(pretrained_model_name_or_path)).expanduser()
        config: dict = {}
        if src.is_file():
            spiece = src
        elif src.is_dir():
            spiece = src / SPIECE_FILE
            if not spiece.is_file():
                raise FileNotFoundError(
                    f"{str(src)!r} has no {SPIECE_FILE}. Save one with KoBERTTokenizer.save_pretrained(folder), "
                    "or point at skt/kobert-base-v1's files. " + _ADVICE
                )
            cfg_file = src / "tokenizer_config.json"
            if cfg_file.is_file():
                raw = json.loads(cfg_file.read_text(encoding="utf-8"))
                config = {k: raw[k] for k in _CONFIG_KEYS if raw.get(k) is not None}
        else:
            spiece = Path(_download_spiece(os.fspath(pretrained_model_name_or_path), revision, cache_dir,
                                           local_files_only))
        config.update(kwargs)
        tok = cls(vocab_file=spiece, **config)
        tok.name_or_path = os.fspath(pretrained_model_name_or_path)
        return tok


def _download_spiece(repo_id: str, revision: Optional[str], cache_dir, local_files_only: Optional[bool]) -> str:
    import huggingface_hub

    from .env import AssetNotFoundError, requested_profile

    if local_files_only is None:
        local_files_only = requested_profile() == "offline"
    try:
        return huggingface_hub.hf_hub_download(
            repo_id, SPIECE_FILE, revision=revision,
            cache_dir=os.fspath(cache_dir) if cache_dir is not None else None,
            local_files_only=local_files_only,
        )
    except Exception as exc:  # offline, no cache, bad id/revision, network errors
        where = f"{repo_id}@{revision or 'main'}"
        raise AssetNotFoundError(
            f"Could not get {SPIECE_FILE} of {where!r} from the Hugging Face hub "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
            + ("You are offline (BERT_COURSE_PROFILE=offline / local_files_only). " if local_files_only else "")
            + _ADVICE
        ) from exc


# ---------------------------------------------------------------------- training a KoBERT-style model

def train_sentencepiece(corpus_lines: Iterable[str], out_dir: str | os.PathLike, vocab_size: int = 8002, *,
                        model_type: str = "unigram", character_coverage: float = 0.9995,
                        num_threads: int = 2, extra_symbols: Iterable[str] = (),
                        **trainer_kwargs) -> KoBERTTokenizer:
    """Train a KoBERT-style SentencePiece model on ``corpus_lines`` and return its :class:`KoBERTTokenizer`.

    Same layout as skt/kobert-base-v1's ``spiece.model``: ``[UNK]=0`` (the unknown piece) and
    ``[PAD]=1, [CLS]=2, [SEP]=3, [MASK]=4`` as user-defined symbols, ``nmt_nfkc`` normalisation.
    The lines get the tokenizer's own preprocessing first. ``vocab_size`` is an upper bound
    (``hard_vocab_limit=False``): a small corpus gives fewer pieces, so size a model's embeddings with
    ``len(tok)``. ``extra_symbols`` are further user-defined pieces (ids 5, 6, …); other keyword
    arguments go to ``sentencepiece.SentencePieceTrainer.train``. Writes ``out_dir/spiece.model`` (+ ``spiece.vocab`` and ``tokenizer_config.json``).
    Used for the offline stand-in when the real ``spiece.model`` is absent.

    Deterministic: the same lines and options give the same pieces and scores in every process and
    on every machine (SentencePiece uses no hash-order or timing-dependent choices; measured). The
    result does depend on ``num_threads`` (the corpus is split per thread), so keep the default
    when you compare builds. The model file itself also records ``model_prefix`` (its path).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(corpus_lines, str):
        raise TypeError("corpus_lines must be an iterable of sentences, not one str (split it into lines).")
    lines = []
    for i, line in enumerate(corpus_lines):
        if not isinstance(line, str):
            raise TypeError(f"train_sentencepiece: corpus line {i} is {_describe(line)}, not a str.")
        line = normalize_text(line)
        if line:
            lines.append(line)
    if not lines:
        raise ValueError("train_sentencepiece: the corpus has no non-empty lines.")
    n_special = len(SPECIAL_TOKENS)
    if vocab_size <= n_special + 1:
        raise ValueError(f"vocab_size={vocab_size} is too small; it needs more than {n_special + 1} pieces.")
    options = dict(
        model_prefix=str(out / "spiece"),
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=character_coverage,
        unk_id=0, unk_piece="[UNK]",
        bos_id=-1, eos_id=-1, pad_id=-1,
        user_defined_symbols=["[PAD]", "[CLS]", "[SEP]", "[MASK]", *extra_symbols],
        normalization_rule_name="nmt_nfkc",
        hard_vocab_limit=False,
        num_threads=num_threads,
        minloglevel=2,
    )
    options.update(trainer_kwargs)
    try:
        spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), **options)
    except RuntimeError as exc:
        import re

        msg = str(exc)
        too_high = re.search(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)", msg)
        if too_high:
            advice = (f"This corpus supports at most {too_high.group(2)} pieces: lower vocab_size to "
                      f"{too_high.group(2)} or less, give a larger corpus, or keep hard_vocab_limit=False "
                      "(the default here), which makes vocab_size an upper bound.")
        elif re.search(r"NOT_FOUND|No such file|Permission denied|PERMISSION_DENIED|Read-only", msg):
            advice = (f"SentencePiece could not write {options['model_prefix']}.model: check that the folder "
                      "exists and is writable (and that no other process deleted it meanwhile).")
        else:
            advice = "Check the corpus lines and the trainer options passed."
        raise ValueError(f"SentencePiece training on {len(lines)} lines failed: {msg}. {advice}") from exc
    tok = KoBERTTokenizer(vocab_file=out / SPIECE_FILE)
    tok.save_pretrained(out)
    return tok


__all__ = ["KoBERTTokenizer", "train_sentencepiece", "normalize_text", "SPECIAL_TOKENS", "HUB_ID", "MIRROR_REL"]
