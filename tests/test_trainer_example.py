"""examples/trainer.py: the Trainer version of the fine-tuning example, on 1 and 2 processes, and its CLI errors."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hf_lr

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "trainer.py"


def _run(command: list[str], tmp_path: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false", **(extra_env or {})}
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def _trajectory(output: Path) -> list[float]:
    with (output / "lr_trajectory.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["step"]) for row in rows] == list(range(len(rows)))
    return [float(row["lr_0"]) for row in rows]


def test_default_run_learns_and_logs_the_schedule(tmp_path: Path) -> None:
    result = _run([sys.executable, str(EXAMPLE), "--output_dir", str(tmp_path / "out")], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["num_processes"] == 1 and metrics["optimizer_updates"] == 96
    assert metrics["eval_accuracy"] > 0.75  # chance is 0.5
    expected = hf_lr.lr_curve("linear", 96, base_lr=2e-3, num_warmup_steps=0, num_training_steps=96)
    assert _trajectory(tmp_path / "out") == pytest.approx(list(expected), rel=1e-12)


def test_two_process_run_follows_the_schedule_in_optimizer_updates(tmp_path: Path) -> None:
    """512 examples, 16 per device, 2 processes: 16 updates in an epoch (one process would make 32)."""
    kwargs = {"d_model": 32, "mode": "peak"}
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", str(EXAMPLE),
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


def test_an_unknown_name_fails_at_parse_time_with_close_matches(tmp_path: Path) -> None:
    result = _run([sys.executable, str(EXAMPLE), "--output_dir", str(tmp_path / "out"), "--lr_scheduler_type", "cosin"], tmp_path)
    assert result.returncode != 0
    assert "unknown schedule name 'cosin'. Did you mean 'cosine'" in result.stderr
    assert not (tmp_path / "out" / "metrics.json").exists()
