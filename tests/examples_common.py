"""Helpers shared by the example tests: data files, reloading a saved model, reading TensorBoard events."""

from __future__ import annotations

import csv
import json
import socket
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

from helpers import task  # noqa: E402

FILE_ROWS, FILE_VALIDATION_ROWS = 80, 8  # a data file's rows, and those held out by --validation_split_percentage 10


def free_port() -> int:
    """A free TCP port for a launch's rendezvous (the default 29500 may be taken by another job on the machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_data_file(path: Path, num_rows: int, seed: int) -> dict[str, list]:
    """The built-in kind of examples with string labels, as csv, json (a list of records) or jsonl."""
    data = task.builtin_examples(num_rows, np.random.default_rng(seed))
    data["label"] = ["positive" if label else "negative" for label in data["label"]]
    rows = [{"text": text, "label": label} for text, label in zip(data["text"], data["label"])]
    if path.suffix == ".csv":
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, ["text", "label"])
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows))
    else:
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return data


def eval_logits(model_dir: Path, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Logits of the model and tokenizer `from_pretrained(model_dir)` on `texts`, batched and padded as the example."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    collator = DataCollatorWithPadding(tokenizer)
    encoded = [tokenizer(text, truncation=True, max_length=128) for text in texts]
    with torch.no_grad():
        batches = [model(**collator(encoded[i : i + batch_size])).logits for i in range(0, len(encoded), batch_size)]
    return torch.cat(batches).numpy()


def tensorboard_points(root: Path) -> dict[str, list[tuple[int, float]]]:
    """Every (step, value) of every scalar tag in every event file under `root`, read with tensorboard's event reader."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    points: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(root.rglob("events.out.tfevents.*")):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:  # the reader gives scalars as tensors of the "scalars" plugin
                if value.metadata.plugin_data.plugin_name == "scalars":
                    points.setdefault(value.tag, []).append((event.step, float(tensor_util.make_ndarray(value.tensor))))
    return points
