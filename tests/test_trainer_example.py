"""examples/trainer.py: the Trainer version of the fine-tuning example, on 1 and 2 processes, its CLI errors, a single
data file, the saved model and checkpoints (from_pretrained), and TensorBoard after a resume."""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from examples_common import FILE_ROWS, FILE_VALIDATION_ROWS, eval_logits, free_port, tensorboard_points, write_data_file
from helpers import task
from versions import FEATURES, TRANSFORMERS, requires_resumable_trainer, requires_transformers

import hf_lr

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "trainer.py"
#: The example records the learning rates Trainer logs, the lrs of the logged updates since Transformers 4.51.
runs_the_example = requires_transformers("trainer_logs_the_lr_it_used")


def _run(
    command: list[str], tmp_path: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # One intra-op thread: as fast for this tiny model, and immune to OpenMP's spinning threads on a busy machine.
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": "1",
        **(extra_env or {}),
    }
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def _trajectory(output: Path) -> list[float]:
    with (output / "lr_trajectory.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["step"]) for row in rows] == list(range(len(rows)))
    return [float(row["lr_0"]) for row in rows]


@runs_the_example
def test_default_run_learns_and_logs_the_schedule(tmp_path: Path) -> None:
    result = _run([sys.executable, str(EXAMPLE), "--output_dir", str(tmp_path / "out")], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["num_processes"] == 1 and metrics["optimizer_updates"] == 96
    assert metrics["eval_accuracy"] > 0.75  # chance is 0.5
    expected = hf_lr.lr_curve("linear", 96, base_lr=2e-3, num_warmup_steps=0, num_training_steps=96)
    assert _trajectory(tmp_path / "out") == pytest.approx(list(expected), rel=1e-12)


@runs_the_example
def test_two_process_run_follows_the_schedule_in_optimizer_updates(tmp_path: Path) -> None:
    """512 examples, 16 per device, 2 processes: 16 updates in an epoch (one process would make 32)."""
    kwargs = {"d_model": 32, "mode": "peak"}
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--main_process_port", str(free_port()), str(EXAMPLE),  # not the default 29500: another job may be using it
        "--output_dir", str(tmp_path / "out"), "--num_train_epochs", "1", "--lr_scheduler_type", "noam",
        "--warmup_steps", "5", "--lr_scheduler_kwargs", json.dumps(kwargs),
    ]  # fmt: skip
    result = _run(command, tmp_path, {"ACCELERATE_USE_CPU": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["num_processes"] == 2
    assert metrics["optimizer_updates"] == math.ceil(512 / (16 * 2)) == 16
    expected = hf_lr.lr_curve("noam", 16, base_lr=2e-3, num_warmup_steps=5, **kwargs)
    assert _trajectory(tmp_path / "out") == pytest.approx(list(expected), rel=1e-12)


@runs_the_example
def test_an_unknown_name_fails_at_parse_time_with_close_matches(tmp_path: Path) -> None:
    result = _run(
        [sys.executable, str(EXAMPLE), "--output_dir", str(tmp_path / "out"), "--lr_scheduler_type", "cosin"], tmp_path
    )
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-3000:]  # no traceback
    assert lines[0].startswith("trainer.py: error: unknown schedule name 'cosin'. Did you mean 'cosine'")
    assert not (tmp_path / "out").exists()


@runs_the_example
@requires_resumable_trainer
def test_single_file_checkpoints_reload_and_a_resume_logs_each_step_once(tmp_path: Path) -> None:
    """One csv file (split 90/10), checkpoints every 3 updates, then a resume from checkpoint-3 into the same folder."""
    write_data_file(tmp_path / "data.csv", FILE_ROWS, seed=7)
    out = tmp_path / "out"
    command = [
        sys.executable, str(EXAMPLE), "--output_dir", str(out), "--train_file", str(tmp_path / "data.csv"),
        "--per_device_train_batch_size", "8", "--max_steps", "6", "--warmup_steps", "2", "--save_strategy", "steps",
        "--save_steps", "3", "--report_to", "tensorboard",
    ]  # fmt: skip
    first = _run(command, tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert json.loads((out / "metrics.json").read_text())["eval_examples"] == FILE_VALIDATION_ROWS
    resumed = _run(command + ["--resume_from_checkpoint", str(out / "checkpoint-3")], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["optimizer_updates"] == 6 and metrics["resumed_from"] == str(out / "checkpoint-3")
    # Updates 4..6 were logged by both runs; the resumed run dropped the first run's points after its checkpoint.
    points = tensorboard_points(out / "runs")
    for tag in ("train/loss", "train/learning_rate"):
        assert [step for step, _ in sorted(points[tag])] == [1, 2, 3, 4, 5, 6], tag
    assert [step for step, _ in points["eval/accuracy"]] == [6]
    expected = hf_lr.lr_curve("linear", 6, base_lr=2e-3, num_warmup_steps=2, num_training_steps=6)
    assert [lr for _, lr in sorted(points["train/learning_rate"])] == pytest.approx(list(expected), rel=1e-6)
    assert _trajectory(out) == pytest.approx(list(expected), rel=1e-12)
    # The fine-tuned model reloads with from_pretrained and gives the logits of the in-memory model; so do checkpoints.
    args = argparse.Namespace(train_file=str(tmp_path / "data.csv"), validation_file=None, dataset_name=None,
                              validation_split_percentage=10.0)  # fmt: skip
    texts = task.load_raw(args)["validation"]["text"]
    with (out / "predictions.csv").open() as handle:
        predicted = [[float(v) for k, v in row.items() if k.startswith("logit_")] for row in csv.DictReader(handle)]
    final = eval_logits(out, texts)
    np.testing.assert_allclose(final, predicted, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(eval_logits(out / "checkpoint-6", texts), final, rtol=1e-5, atol=1e-6)
    assert eval_logits(out / "checkpoint-3", texts).shape == final.shape


@runs_the_example
def test_resume_from_latest_names_the_newest_checkpoint_or_refuses_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("trainer_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    for name in ("checkpoint-3", "checkpoint-12", "checkpoint-6"):
        (tmp_path / name).mkdir()
    args, _ = example.parse_args(["--output_dir", str(tmp_path), "--resume_from_checkpoint", "latest"])
    assert args.resume_from_checkpoint == str(tmp_path / "checkpoint-12")
    with pytest.raises(SystemExit) as raised:
        example.parse_args(["--output_dir", str(tmp_path / "empty"), "--resume_from_checkpoint", "latest"])
    assert raised.value.code == 2
    assert (
        capsys.readouterr().err
        == f"trainer.py: error: --resume_from_checkpoint latest: no checkpoint-K folder in {tmp_path / 'empty'}\n"
    )


@pytest.mark.skipif(FEATURES["trainer_logs_the_lr_it_used"].available, reason=f"Transformers {TRANSFORMERS} >= 4.51")
def test_older_transformers_is_refused_in_one_line(tmp_path: Path) -> None:
    result = _run([sys.executable, str(EXAMPLE), "--output_dir", str(tmp_path / "out")], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"trainer.py: error: needs Transformers >= 4.51, found {TRANSFORMERS} (older releases log the next update's "
        "learning rate, which lr_trajectory.csv would record)"
    ]
