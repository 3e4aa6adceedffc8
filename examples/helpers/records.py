"""What a run writes besides checkpoints, on the main process only.

- ``lr_trajectory.csv`` (``step,lr_0,lr_1,...``) and ``loss_trajectory.csv`` (``step,loss``): one row per optimizer
  update;
- TensorBoard events under ``OUTPUT_DIR/logs`` (through Accelerate's tracker), when tensorboard is installed;
- ``metrics.json`` and ``predictions.csv`` (``index,label,prediction,logit_0,...``, the validation set in order).

One rule for all of them: a run starting at update K (0 for a fresh run, the checkpoint's count on resume) first
drops whatever was recorded for updates K and later (written by a run that died after its last checkpoint, or by an
earlier run into the same folder), so every update appears exactly once, as in an uninterrupted run.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path
from typing import Any

LR_TRAJECTORY_NAME = "lr_trajectory.csv"
LOSS_TRAJECTORY_NAME = "loss_trajectory.csv"
METRICS_NAME = "metrics.json"
PREDICTIONS_NAME = "predictions.csv"
EVENT_FILE_PATTERN = "events.out.tfevents.*"


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


class TrajectoryWriter:
    """Appends one row per optimizer update to a CSV, after dropping the rows of updates >= ``keep_before_step``."""

    def __init__(self, path: Path, header: list[str], keep_before_step: int, enabled: bool) -> None:
        self.file = None
        if not enabled:
            return
        rows: list[list[str]] = []
        if keep_before_step > 0 and path.is_file():
            with path.open(newline="") as f:
                reader = csv.reader(f)
                old_header = next(reader, None)
                if old_header != header:
                    raise SystemExit(
                        f"{path} has header {old_header}, this run writes {header}; use another --output_dir"
                    )
                rows = [row for row in reader if row and int(row[0]) < keep_before_step]
        self.file = path.open("w", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow(header)
        self.writer.writerows(rows)
        self.file.flush()

    def write(self, step: int, values: list[float]) -> None:
        if self.file is not None:
            self.writer.writerow([step] + [repr(float(v)) for v in values])  # repr: exact round trip
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def truncate_tensorboard(root: Path, keep_before_step: int) -> None:
    """Keep only the TensorBoard points of steps < ``keep_before_step`` in every run folder under ``root``.

    TensorBoard files are append-only, so a folder's kept points are rewritten into one new event file and the old
    files removed. Killed between the two, the next truncation removes the duplicates (one point per tag and step).
    """
    folders = sorted({path.parent for path in root.rglob(EVENT_FILE_PATTERN)})
    if not folders:
        return
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    for folder in folders:
        old_files = sorted(folder.glob(EVENT_FILE_PATTERN))
        kept: dict[tuple[int, str], tuple[float, Any]] = {}
        for path in old_files:
            for record in RawEventFileLoader(str(path)).Load():
                event = Event.FromString(record)
                if event.HasField("summary") and event.step < keep_before_step:
                    for value in event.summary.value:
                        kept[(event.step, value.tag)] = (event.wall_time, value)
        if kept:
            writer = EventFileWriter(str(folder))
            for (step, _), (wall_time, value) in sorted(kept.items(), key=lambda item: item[0]):
                event = Event(wall_time=wall_time, step=step)
                event.summary.value.add().CopyFrom(value)
                writer.add_event(event)
            writer.close()
        for path in old_files:
            path.unlink()


def write_predictions(path: Path, logits: Any, labels: Any) -> None:
    """``index,label,prediction,logit_0,...``: one row per validation example, in order (logits exactly, by repr)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "label", "prediction"] + [f"logit_{i}" for i in range(logits.shape[1])])
        for index, (row, label) in enumerate(zip(logits.tolist(), labels.tolist())):
            writer.writerow(
                [index, int(label), max(range(len(row)), key=row.__getitem__)] + [repr(float(v)) for v in row]
            )


class RunRecords:
    """The per-update CSVs and TensorBoard points of a run starting after ``start_step`` updates (see the module)."""

    def __init__(
        self, accelerator: Any, output_dir: Path, start_step: int, num_groups: int, tracking: bool, project: str
    ) -> None:
        self.accelerator, self.output_dir, self.tracking = accelerator, output_dir, tracking
        main = accelerator.is_main_process
        self.lrs = TrajectoryWriter(
            output_dir / LR_TRAJECTORY_NAME, ["step"] + [f"lr_{i}" for i in range(num_groups)], start_step, main
        )
        self.losses = TrajectoryWriter(output_dir / LOSS_TRAJECTORY_NAME, ["step", "loss"], start_step, main)
        if main and tensorboard_available():  # also when this run does not track: its records follow the rule
            truncate_tensorboard(Path(accelerator.logging_dir), start_step)
        if tracking:
            accelerator.init_trackers(project)

    def update(self, step: int, lrs: list[float], loss: float) -> None:
        """The learning rate of every group and the mean loss of optimizer update ``step`` (0-based)."""
        self.lrs.write(step, lrs)
        self.losses.write(step, [loss])
        if self.tracking:
            self.accelerator.log({"train_loss": loss, **{f"lr_{i}": lr for i, lr in enumerate(lrs)}}, step=step)

    def finish(self, logits: Any, labels: Any, step: int, **details: Any) -> dict[str, Any]:
        """Close the CSVs; write ``metrics.json`` (accuracy and loss over the gathered validation ``logits``, the
        ``details``) and ``predictions.csv``; log the evaluation at ``step``. Returns the metrics."""
        import torch

        self.lrs.close()
        self.losses.close()
        metrics = {
            "eval_accuracy": float((logits.argmax(-1) == labels).float().mean()),
            "eval_loss": float(torch.nn.functional.cross_entropy(logits, labels)),
            "eval_examples": len(labels),
            "optimizer_updates": step,
            "num_processes": self.accelerator.num_processes,
            "world_size": torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1,
            **details,
        }
        if self.tracking:
            self.accelerator.log(
                {"eval_accuracy": metrics["eval_accuracy"], "eval_loss": metrics["eval_loss"]}, step=step
            )
        if self.accelerator.is_main_process:
            (self.output_dir / METRICS_NAME).write_text(json.dumps(metrics, indent=2) + "\n")
            write_predictions(self.output_dir / PREDICTIONS_NAME, logits, labels)
        return metrics
