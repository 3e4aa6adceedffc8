"""Checkpoints that are safe to resume from.

``OUTPUT_DIR/checkpoints/step_K`` holds Accelerate's state (model, optimizer, scheduler, RNG and sampler states),
the model and tokenizer as ``save_pretrained`` writes them (``from_pretrained(step_K)`` works), ``trainer_state.json``
(the update count and the run's schedule) and, written last, ``manifest.json``: the update count and the size and
sha256 of every other file. The folder is assembled as ``step_K.tmp`` and renamed into place once complete.

On resume a checkpoint is used only if every file matches the manifest and the update count agrees three times
(the manifest, ``trainer_state.json``, the scheduler's ``last_epoch``), so both resume routes start from the same,
verified count. ``latest`` takes the newest intact checkpoint, saying which damaged ones it skipped; a path names one
checkpoint, which is used or refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .launch import launcher_rank

logger = logging.getLogger("examples")

CHECKPOINTS_DIRNAME = "checkpoints"
TRAINER_STATE_NAME = "trainer_state.json"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
SCHEDULER_STATE_NAME = "scheduler.bin"  # what accelerator.save_state names the (only) scheduler's state
OPTIMIZER_STATE_NAME = "optimizer.bin"  # and the (only) optimizer's


class CheckpointError(Exception):
    """A checkpoint that must not be resumed from: damaged, edited, incomplete or inconsistent."""


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A verified checkpoint: its folder, its update count and its ``trainer_state.json``."""

    path: Path
    completed_steps: int
    state: dict[str, Any]


def checkpoint_dir(output_dir: Path, step: int) -> Path:
    return output_dir / CHECKPOINTS_DIRNAME / f"step_{step}"


def list_checkpoints(output_dir: Path) -> list[Path]:
    """The ``step_K`` folders, newest first (``step_K.tmp``, an interrupted save, is not one)."""
    root = output_dir / CHECKPOINTS_DIRNAME
    found = [p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"step_\d+", p.name)] if root.is_dir() else []
    return sorted(found, key=lambda p: int(p.name.split("_")[1]), reverse=True)


def dropout_seed(seed: int, epoch: int, batch: int, rank: int) -> int:
    """The seed set before each batch: a resumed run draws the same dropout masks as an uninterrupted one."""
    return int(np.random.SeedSequence([seed, epoch, batch, rank]).generate_state(1)[0])


# --------------------------------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------------------------------
def save_pretrained(accelerator: Any, model: Any, tokenizer: Any, directory: Path) -> None:
    """The model and tokenizer as ``from_pretrained`` loads them (``config.json``, weights, tokenizer files).

    Every process calls it (gathering a sharded model's state dict is collective); the main process writes.
    """
    accelerator.unwrap_model(model).save_pretrained(
        directory,
        is_main_process=accelerator.is_main_process,
        save_function=accelerator.save,
        state_dict=accelerator.get_state_dict(model),
    )
    if accelerator.is_main_process:
        tokenizer.save_pretrained(directory)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(directory: Path) -> list[str]:
    return sorted(
        p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST_NAME
    )


def write_manifest(directory: Path, completed_steps: int) -> None:
    """``manifest.json``: the update count and every file's size and sha256, replaced atomically (never torn)."""
    files = {
        name: {"size": (directory / name).stat().st_size, "sha256": sha256_of(directory / name)}
        for name in _files(directory)
    }
    manifest = {"format": MANIFEST_FORMAT, "completed_steps": completed_steps, "files": files}
    partial = directory / f"{MANIFEST_NAME}.partial"
    partial.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(partial, directory / MANIFEST_NAME)


def save(accelerator: Any, model: Any, tokenizer: Any, output_dir: Path, state: dict[str, Any]) -> Path:
    """Write ``checkpoints/step_K`` (``K = state["completed_steps"]``) completely, or leave the previous ones as they are."""
    final = checkpoint_dir(output_dir, state["completed_steps"])
    partial = final.with_name(final.name + ".tmp")
    if accelerator.is_main_process and partial.exists():
        shutil.rmtree(partial)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(partial))  # model, optimizer, scheduler, RNG and sampler states
    # config.json and the tokenizer, for from_pretrained; model.safetensors is rewritten with the same tensors.
    save_pretrained(accelerator, model, tokenizer, partial)
    accelerator.wait_for_everyone()  # every rank's files are in place
    if accelerator.is_main_process:
        (partial / TRAINER_STATE_NAME).write_text(json.dumps(state, indent=2) + "\n")
        write_manifest(partial, state["completed_steps"])
        if final.exists():  # a resumed run reaching a step saved before (e.g. a damaged one it skipped)
            replaced = final.with_name(final.name + ".replaced")
            shutil.rmtree(replaced, ignore_errors=True)
            os.replace(final, replaced)
            os.replace(partial, final)
            shutil.rmtree(replaced)
        else:
            os.replace(partial, final)
    accelerator.wait_for_everyone()
    return final


# --------------------------------------------------------------------------------------------------------------------
# Verifying and choosing the checkpoint to resume from
# --------------------------------------------------------------------------------------------------------------------
def verify(path: Path) -> Checkpoint:
    """The checkpoint at ``path`` if it is intact and consistent, else :class:`CheckpointError` saying why."""
    import torch

    try:
        manifest = json.loads((path / MANIFEST_NAME).read_text())
        files, count = manifest["files"], manifest["completed_steps"]
    except FileNotFoundError:
        raise CheckpointError(f"no {MANIFEST_NAME} (an interrupted save, or not written by this example)") from None
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"{MANIFEST_NAME} is unreadable") from None
    for name, expected in files.items():
        file = path / name
        if not file.is_file():
            raise CheckpointError(f"{name} is missing")
        if file.stat().st_size != expected["size"] or sha256_of(file) != expected["sha256"]:
            raise CheckpointError(f"{name} does not match its checksum in {MANIFEST_NAME} (damaged or edited)")
    for required in (TRAINER_STATE_NAME, SCHEDULER_STATE_NAME, OPTIMIZER_STATE_NAME):
        if required not in files:
            raise CheckpointError(f"{MANIFEST_NAME} lists no {required}")
    # The update count, three times: what the manifest says, what the trainer state says, where the scheduler is.
    state = json.loads((path / TRAINER_STATE_NAME).read_text())
    scheduler_step = torch.load(path / SCHEDULER_STATE_NAME, map_location="cpu", weights_only=True).get("last_epoch")
    if not (count == state.get("completed_steps") == scheduler_step):
        raise CheckpointError(
            f"the update counts disagree: {MANIFEST_NAME} says {count}, {TRAINER_STATE_NAME} "
            f"{state.get('completed_steps')}, the scheduler state {scheduler_step}"
        )
    return Checkpoint(path, count, state)


def resolve(resume_from_checkpoint: str | None, output_dir: Path, prog: str) -> Checkpoint | None:
    """The verified checkpoint to resume from, or None for a fresh run; refuses (``SystemExit``) otherwise.

    ``latest`` skips damaged checkpoints, newest first, with one line for each; a path is used or refused. A fresh
    run into a folder that holds checkpoints is refused too: it would overwrite them one by one.
    """
    if resume_from_checkpoint is None:
        existing = list_checkpoints(output_dir)
        if existing:
            raise SystemExit(
                f"{prog}: error: {output_dir} holds checkpoints of an earlier run ({', '.join(p.name for p in existing)}); "
                "pass --resume_from_checkpoint latest to continue it, or choose another --output_dir"
            )
        return None
    if resume_from_checkpoint != "latest":
        path = Path(resume_from_checkpoint)
        try:
            return verify(path)
        except CheckpointError as error:
            raise SystemExit(f"{prog}: error: refusing to resume from {path}: {error}") from None
    skipped = []
    for path in list_checkpoints(output_dir):
        try:
            checkpoint = verify(path)
        except CheckpointError as error:
            skipped.append(f"{path.name}: {error}")
            if launcher_rank() == 0:
                sys.stderr.write(f"{prog}: skipping checkpoint {path}: {error}; falling back to the previous one\n")
            continue
        return checkpoint
    raise SystemExit(
        f"{prog}: error: --resume_from_checkpoint latest: no intact checkpoint under {output_dir / CHECKPOINTS_DIRNAME}"
        + (f" ({'; '.join(skipped)})" if skipped else "")
    )


def load_optimizer_state(checkpoint: Checkpoint, optimizer: Any, prog: str) -> None:
    """``optimizer.load_state_dict`` from the checkpoint, or a refusal naming it (another number of groups, say)."""
    import torch

    state = torch.load(checkpoint.path / OPTIMIZER_STATE_NAME, map_location="cpu", weights_only=True)
    try:
        optimizer.load_state_dict(state)
    except ValueError as error:  # e.g. --classifier_learning_rate added or dropped since the checkpoint
        raise SystemExit(f"{prog}: error: refusing to resume from {checkpoint.path}: {error}") from None


def schedule_record(scheduler: Any) -> Any:
    """Every group's schedule configuration (hf_lr's ``ScheduleLR``) as JSON gives it back, or None."""
    configs = getattr(scheduler, "schedule_configs", None)
    return json.loads(json.dumps(configs())) if configs is not None else None


def check_compatible(checkpoint: Checkpoint, lr_scheduler: Any, num_processes: int, accumulation: int) -> None:
    """Refuse to resume with another schedule; warn when the data position cannot be reproduced exactly.

    The ``initial_lr`` route never reads the saved scheduler state, so it would silently switch curves if the flags
    changed; the ``state`` route is protected by ``ScheduleLR.load_state_dict`` too, and this check comes first.
    """
    saved, live = checkpoint.state.get("schedules"), schedule_record(lr_scheduler)
    if saved != live:
        raise SystemExit(
            "refusing to resume: the checkpoint was trained with another schedule configuration.\n"
            f"  saved: {saved}\n  now:   {live}\n"
            "Pass the same --lr_scheduler_type, --num_warmup_steps/--warmup_ratio, --max_train_steps/--num_train_epochs "
            "and --scheduler_kwargs as the interrupted run."
        )
    before = (checkpoint.state.get("num_processes"), checkpoint.state.get("gradient_accumulation_steps"))
    if before != (num_processes, accumulation):
        logger.warning(
            "resuming with %d process(es) and accumulation %d, the checkpoint used %s and %s: the schedule still "
            "continues at the right update, but the batches skipped in the current epoch are not exactly those seen",
            num_processes, accumulation, *before,
        )  # fmt: skip
