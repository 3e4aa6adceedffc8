"""The examples' task: text classification data, tokenizer, model and AdamW parameter groups.

By default everything is offline and deterministic: a generated sentiment-like data set with a learnable signal, a
word-level tokenizer built in code and a tiny BERT built from a config. Otherwise ``--train_file`` /
``--validation_file`` (csv, json or jsonl) or a hub data set (``--dataset_name``), and a hub or local model
(``--model_name_or_path``).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

POSITIVE_WORDS = ["good", "great", "fine", "superb", "lovely", "happy", "brilliant", "enjoyable"]
NEGATIVE_WORDS = ["bad", "awful", "poor", "boring", "sad", "terrible", "dull", "annoying"]
NEUTRAL_WORDS = [
    "the", "a", "movie", "film", "plot", "actor", "scene", "was", "is", "very", "quite", "story", "music", "and",
    "ending", "cast", "really", "it", "this", "director", "script", "of", "with", "some", "rather", "score",
]  # fmt: skip
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
BUILTIN_DATA_SEED = 1234  # fixed: the built-in data set never depends on --seed
SPLIT_SEED = 1234  # fixed: a single --train_file is split the same way whatever --seed
FILE_BUILDERS = {".csv": "csv", ".json": "json", ".jsonl": "json"}  # the `datasets` builder of each file type
TEXT_COLUMN_CANDIDATES = (
    ("sentence1", "sentence2"),
    ("question", "sentence"),
    ("premise", "hypothesis"),
    ("text",),
    ("sentence",),
)


# --------------------------------------------------------------------------------------------------------------------
# Flags
# --------------------------------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser, batch_flags: bool = True) -> None:
    """The data and model flags shared by the examples (the built-in offline data and model by default), and the seed,
    batch and weight-decay flags unless ``batch_flags=False`` (``TrainingArguments`` has its own)."""
    group = parser.add_argument_group("data and model")
    if batch_flags:
        group.add_argument("--seed", type=int, default=42, help="Seed for the model init, data order and dropout.")
        group.add_argument("--per_device_train_batch_size", type=int, default=16)
        group.add_argument("--per_device_eval_batch_size", type=int, default=64)
        group.add_argument(
            "--weight_decay", type=float, default=0.01, help="AdamW's weight decay (not on biases and norms)."
        )
    group.add_argument(
        "--model_name_or_path", default=None, help="Hub id or local folder (default: a tiny BERT built from a config)."
    )
    group.add_argument("--train_file", default=None, help="Training data: a .csv, .json or .jsonl file.")
    group.add_argument("--validation_file", default=None, help="Validation data (default: split off --train_file).")
    group.add_argument(
        "--validation_split_percentage", type=float, default=10.0,
        help="Without --validation_file: the share of --train_file held out for validation (a fixed, seeded split).",
    )  # fmt: skip
    group.add_argument("--dataset_name", default=None, help="A hub data set, instead of files (needs the network).")
    group.add_argument("--dataset_config_name", default=None)
    group.add_argument(
        "--text_column", default=None, help="Text column(s), comma-separated for pairs (default: guessed)."
    )
    group.add_argument("--label_column", default="label")
    group.add_argument("--max_length", type=int, default=128, help="Truncate texts to this many tokens.")
    group.add_argument("--num_train_examples", type=int, default=512, help="Size of the built-in training set.")
    group.add_argument("--num_eval_examples", type=int, default=256, help="Size of the built-in validation set.")


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse inconsistent data flags through ``parser.error`` (one line, exit status 2)."""
    if args.dataset_name is not None and args.train_file is not None:
        parser.error("pass --dataset_name or --train_file, not both")
    if args.validation_file is not None and args.train_file is None:
        parser.error("--validation_file needs --train_file")
    if args.dataset_name is not None and Path(args.dataset_name).suffix.lower() in FILE_BUILDERS:
        parser.error(f"--dataset_name {args.dataset_name}: a local file goes in --train_file (and --validation_file)")
    for flag in ("train_file", "validation_file"):
        name = getattr(args, flag)
        if name is None:
            continue
        if Path(name).suffix.lower() not in FILE_BUILDERS:
            parser.error(f"--{flag} {name}: expected a .csv, .json or .jsonl file")
        if not Path(name).is_file():
            parser.error(f"--{flag} {name}: no such file")
    if not 0.0 < args.validation_split_percentage < 100.0:
        parser.error(f"--validation_split_percentage must be in (0, 100), got {args.validation_split_percentage}")
    for flag in (
        "max_length",
        "num_train_examples",
        "num_eval_examples",
        "per_device_train_batch_size",
        "per_device_eval_batch_size",
    ):
        if getattr(args, flag, 1) < 1:
            parser.error(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    if not (math.isfinite(getattr(args, "weight_decay", 0.0)) and getattr(args, "weight_decay", 0.0) >= 0):
        parser.error(f"--weight_decay must be a finite number >= 0, got {args.weight_decay}")


# --------------------------------------------------------------------------------------------------------------------
# The built-in offline data, tokenizer and model
# --------------------------------------------------------------------------------------------------------------------
def builtin_examples(num_examples: int, rng: np.random.Generator) -> dict[str, list[Any]]:
    """Sentences of neutral filler with one to three sentiment words; the label is the majority sentiment."""
    texts, labels = [], []
    for _ in range(num_examples):
        label = int(rng.integers(2))
        n_major = int(rng.integers(1, 4))
        n_minor = int(rng.integers(0, n_major))  # strictly fewer words of the other polarity
        major, minor = (POSITIVE_WORDS, NEGATIVE_WORDS) if label == 1 else (NEGATIVE_WORDS, POSITIVE_WORDS)
        words = list(rng.choice(NEUTRAL_WORDS, size=int(rng.integers(4, 12))))
        words += list(rng.choice(major, size=n_major)) + list(rng.choice(minor, size=n_minor))
        rng.shuffle(words)
        texts.append(" ".join(str(w) for w in words))
        labels.append(label)
    return {"text": texts, "label": labels}


def builtin_tokenizer() -> Any:
    """A word-level tokenizer over the built-in vocabulary, built in code (nothing to download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {
        token: index for index, token in enumerate(SPECIAL_TOKENS + POSITIVE_WORDS + NEGATIVE_WORDS + NEUTRAL_WORDS)
    }
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )


def builtin_model(vocab_size: int, labels: list[str], pad_token_id: int) -> Any:
    """A tiny BERT (two layers of width 32) built from a config, randomly initialised from the current seed."""
    from transformers import AutoModelForSequenceClassification, BertConfig

    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: index for index, label in enumerate(labels)},
        pad_token_id=pad_token_id,
    )
    return AutoModelForSequenceClassification.from_config(config)


# --------------------------------------------------------------------------------------------------------------------
# Loading: raw splits, then tokenized splits, tokenizer and model
# --------------------------------------------------------------------------------------------------------------------
def _load_file(path: str) -> Any:
    import datasets

    return datasets.load_dataset(FILE_BUILDERS[Path(path).suffix.lower()], data_files={"train": path})["train"]


def load_raw(args: argparse.Namespace) -> Any:
    """A ``DatasetDict`` with ``train`` and ``validation``: built-in, files, or a hub data set.

    A single training file (or a hub set without a validation split) is split with a fixed seed, so the held-out
    examples are the same on every run and every process.
    """
    import datasets

    if args.train_file is None and args.dataset_name is None:
        rng = np.random.default_rng(BUILTIN_DATA_SEED)
        train = datasets.Dataset.from_dict(builtin_examples(args.num_train_examples, rng))
        return datasets.DatasetDict(
            {"train": train, "validation": datasets.Dataset.from_dict(builtin_examples(args.num_eval_examples, rng))}
        )
    if args.train_file is not None:
        raw = datasets.DatasetDict({"train": _load_file(args.train_file)})
        if args.validation_file is not None:
            raw["validation"] = _load_file(args.validation_file)
    else:
        raw = datasets.load_dataset(args.dataset_name, args.dataset_config_name)
    if "validation" not in raw:
        split = raw["train"].train_test_split(test_size=args.validation_split_percentage / 100, seed=SPLIT_SEED)
        raw = datasets.DatasetDict({"train": split["train"], "validation": split["test"]})
    return raw


def text_columns(args: argparse.Namespace, columns: list[str]) -> tuple[str, ...]:
    """``--text_column`` (one, or two comma-separated for pairs), or the first known column set present."""
    if args.text_column:
        chosen = tuple(c.strip() for c in args.text_column.split(","))
        missing = [c for c in chosen if c not in columns]
        if missing:
            raise SystemExit(f"--text_column: {missing} not among the data's columns {columns}")
        return chosen
    for candidate in TEXT_COLUMN_CANDIDATES:
        if all(c in columns for c in candidate):
            return candidate
    raise SystemExit(f"cannot tell the text column(s) among {columns}; pass --text_column (comma-separated for pairs)")


def load(args: argparse.Namespace, pretrained: str | Path | None = None) -> tuple[Any, Any, Any, Any]:
    """The tokenized ``train`` and ``validation`` sets (with ``labels``), the tokenizer and the model.

    The tokenizer and model come from ``pretrained`` (a checkpoint being resumed) if given, else from
    ``--model_name_or_path``, else they are the built-in ones. Labels become ids in sorted order (a ``ClassLabel``
    feature keeps its own), recorded in the model's ``config.id2label``.
    """
    raw = load_raw(args)
    columns = raw["train"].column_names
    if args.label_column not in columns:
        raise SystemExit(f"--label_column {args.label_column!r} is not among the data's columns {columns}")
    texts = text_columns(args, columns)
    feature = raw["train"].features[args.label_column]
    if hasattr(feature, "names"):  # a ClassLabel: the values are already ids
        labels, label_ids = [str(name) for name in feature.names], None
    else:
        values = sorted({*raw["train"][args.label_column], *raw["validation"][args.label_column]}, key=str)
        labels, label_ids = [str(v) for v in values], {v: i for i, v in enumerate(values)}

    source = pretrained if pretrained is not None else args.model_name_or_path
    if source is None:
        tokenizer = builtin_tokenizer()
        model = builtin_model(len(tokenizer), labels, tokenizer.pad_token_id)
    else:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForSequenceClassification.from_pretrained(
            source,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
        )
        if tokenizer.pad_token is None:  # decoder-only models (GPT-2, Llama) have no padding token
            tokenizer.pad_token = tokenizer.eos_token
            model.config.pad_token_id = tokenizer.pad_token_id

    def tokenize(batch: dict[str, list[Any]]) -> dict[str, Any]:
        encoded = tokenizer(*(batch[c] for c in texts), truncation=True, max_length=args.max_length)
        values = batch[args.label_column]
        encoded["labels"] = values if label_ids is None else [label_ids[v] for v in values]
        return encoded

    processed = raw.map(tokenize, batched=True, remove_columns=columns, desc="Tokenizing")
    return processed["train"], processed["validation"], tokenizer, model


def parameter_groups(model: Any, weight_decay: float, head_learning_rate: float | None = None) -> list[dict[str, Any]]:
    """AdamW groups as in Transformers' examples: 0, weights with decay; 1, biases and norms without; 2, with
    ``head_learning_rate``, the classification head (with decay) at a learning rate of its own."""
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
    head_names: set[str] = set()
    if head_learning_rate is not None:
        head = getattr(model, "classifier", None) or getattr(model, "score", None)
        if head is None:
            raise SystemExit("--classifier_learning_rate: the model has no `classifier` or `score` head")
        head_ids = {id(p) for p in head.parameters()}
        head_names = {n for n, p in model.named_parameters() if id(p) in head_ids}
    body = [(n, p) for n, p in model.named_parameters() if n not in head_names]
    groups: list[dict[str, Any]] = [
        {"params": [p for n, p in body if not any(nd in n for nd in no_decay)], "weight_decay": weight_decay},
        {"params": [p for n, p in body if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    if head_names:
        head_params = [p for n, p in model.named_parameters() if n in head_names]
        groups.append({"params": head_params, "weight_decay": weight_decay, "lr": head_learning_rate})
    return groups
