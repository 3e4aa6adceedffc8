"""End-to-end tests of examples/finetune.py: lr trajectories per optimizer update on 1 and 2 processes, exact resume
by both routes after a SIGKILL, launch checks, and that the default run learns.

Every run is a real subprocess (`python examples/finetune.py` for one process, `accelerate launch` with a real gloo
process group for two), offline, on a tiny model and a tiny slice of the built-in data.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hf_lr

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "finetune.py"
TIMEOUT = 240  # seconds per run: a hang fails the test instead of blocking CI

# A few updates per epoch so that runs cross epoch boundaries and checkpoints fall mid-epoch; with 72 examples, batch 8
# and accumulation 2 an epoch has 9 batches (5 updates, the last one a single batch) on 1 process and 5 batches per
# process (3 updates) on 2 processes.
SMALL = ["--num_train_examples", "72", "--num_eval_examples", "32", "--per_device_train_batch_size", "8", "--no-with_tracking"]


def load_example():
    spec = importlib.util.spec_from_file_location("finetune_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


finetune = load_example()
finetune.register_example_schedules()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_example(
    output_dir: Path, args: list[str], num_processes: int = 1, *, use_cpu_env: bool = True, launcher: list[str] | None = None
) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.pop("ACCELERATE_USE_CPU", None)
    if launcher is None and num_processes == 1:
        command = [sys.executable, str(EXAMPLE)]
    else:
        if launcher is None:
            launcher = ["--multi_gpu", "--num_processes", str(num_processes)]
            if use_cpu_env:
                env["ACCELERATE_USE_CPU"] = "1"
        command = [
            sys.executable, "-m", "accelerate.commands.launch", *launcher, "--num_machines", "1",
            "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port()), str(EXAMPLE),
        ]
    command += ["--output_dir", str(output_dir), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)


def check_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n--- stderr ---\n{result.stderr[-6000:]}"
    # The orderly shutdown must leave no aborting rank behind.
    assert "terminate called" not in result.stderr


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [row for row in reader]


def read_lrs(path: Path) -> tuple[list[int], np.ndarray]:
    header, rows = read_rows(path)
    assert header[0] == "step" and header[1:] == [f"lr_{i}" for i in range(len(header) - 1)]
    return [int(r[0]) for r in rows], np.array([[float(v) for v in r[1:]] for r in rows])


def expected_lrs(name: str, group_lrs: list[float], steps: int, warmup: int | None, total: int | None, **kwargs) -> np.ndarray:
    """What the schedule defines at optimizer update 0..steps-1 for each group: base_lr * schedule.bind(base_lr, ref)(k),
    where the reference lr is the optimizer's lr (``--learning_rate``, the first group's)."""
    schedule = hf_lr.build_schedule(name, num_warmup_steps=warmup, num_training_steps=total, **kwargs)
    columns = [lr * schedule.bind(lr, group_lrs[0]).values(np.arange(steps)) for lr in group_lrs]
    return np.stack(columns, axis=1)


def metrics_of(output_dir: Path) -> dict:
    return json.loads((output_dir / "metrics.json").read_text())


# ----------------------------------------------------------------------------------------------------------------------
# The lr each group used, per optimizer update, equals the schedule's definition on 1 and 2 processes.
# ----------------------------------------------------------------------------------------------------------------------
TRAJECTORY_CASES = [
    # (name, extra args, warmup, scheduler kwargs, group lrs, accumulation)
    ("linear", ["--num_warmup_steps", "2"], 2, {}, [2e-3, 2e-3], 1),
    ("cosine", ["--warmup_ratio", "0.25", "--classifier_learning_rate", "5e-3"], 2, {}, [2e-3, 2e-3, 5e-3], 2),
    (
        "noam",
        ["--num_warmup_steps", "3", "--scheduler_kwargs", '{"d_model": 32}', "--classifier_learning_rate", "1e-2"],
        3,
        {"d_model": 32},
        [2e-3, 2e-3, 1e-2],
        2,
    ),
    (finetune.CUSTOM_SCHEDULE_NAME, ["--num_warmup_steps", "2", "--scheduler_kwargs", '{"final_ratio": 0.1}'], 2, {"final_ratio": 0.1}, [2e-3, 2e-3], 1),
]


# The example's custom name runs on one process only, to keep CI short.
TRAJECTORY_PARAMS = [
    pytest.param(case, n, id=f"{case[0]}-{n}proc")
    for case in TRAJECTORY_CASES
    for n in (1, 2)
    if not (case[0] == finetune.CUSTOM_SCHEDULE_NAME and n == 2)
]


@pytest.mark.parametrize("case, num_processes", TRAJECTORY_PARAMS)
def test_lr_trajectory_follows_schedule_per_optimizer_update(tmp_path, case, num_processes):
    name, extra, warmup, kwargs, group_lrs, accumulation = case
    total = 8
    args = SMALL + ["--lr_scheduler_type", name, "--max_train_steps", str(total), "--gradient_accumulation_steps", str(accumulation), *extra]
    # The 2-process cosine run is launched the way that duplicates training with plain Accelerate on a CPU-only machine
    # (`--multi_gpu` without ACCELERATE_USE_CPU): the example must turn it into a real 2-process run.
    use_cpu_env = not (num_processes == 2 and name == "cosine")
    result = run_example(tmp_path, args, num_processes, use_cpu_env=use_cpu_env)
    check_ok(result)
    metrics = metrics_of(tmp_path)
    assert metrics["num_processes"] == num_processes
    assert metrics["world_size"] == num_processes
    assert metrics["optimizer_updates"] == total
    assert metrics["num_warmup_steps"] == warmup
    steps, lrs = read_lrs(tmp_path / "lr_trajectory.csv")
    assert steps == list(range(total))
    uses_total = hf_lr.get_schedule_entry(name).training != "unused"
    expected = expected_lrs(name, group_lrs, total, warmup, total if uses_total else None, **kwargs)
    np.testing.assert_array_equal(lrs, expected)
    if not use_cpu_env:
        assert "using the CPU (gloo)" in result.stderr


def test_custom_schedule_is_registered_by_the_example():
    assert finetune.CUSTOM_SCHEDULE_NAME in hf_lr.list_schedules()
    finetune.register_example_schedules()  # idempotent
    schedule = hf_lr.build_schedule(finetune.CUSTOM_SCHEDULE_NAME, num_warmup_steps=2, num_training_steps=6, final_ratio=0.25)
    assert schedule.values(range(7)).tolist() == [0.0, 0.5, 1.0, 0.25**0.25, 0.25**0.5, 0.25**0.75, 0.25]


# ----------------------------------------------------------------------------------------------------------------------
# Killed with SIGKILL after a checkpoint, resumed by each route: identical to the uninterrupted run.
# ----------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("num_processes", [1, 2])
def test_sigkill_after_checkpoint_then_resume_by_each_route_is_exact(tmp_path, num_processes):
    total, every, kill_at = 10, 4, 6
    args = SMALL + [
        "--lr_scheduler_type", "cosine", "--num_warmup_steps", "2", "--max_train_steps", str(total),
        "--gradient_accumulation_steps", "2", "--checkpointing_steps", str(every), "--classifier_learning_rate", "5e-3",
    ]  # fmt: skip
    reference = tmp_path / "reference"
    check_ok(run_example(reference, args, num_processes))

    killed = tmp_path / "killed"
    result = run_example(killed, args + ["--kill_after_step", str(kill_at)], num_processes)
    if num_processes == 1:
        assert result.returncode == -signal.SIGKILL
    else:
        assert result.returncode != 0 and "SIGKILL" in result.stderr
    assert not (killed / "metrics.json").exists()
    checkpoints = sorted(p.name for p in (killed / "checkpoints").iterdir())
    assert checkpoints == ["step_4"]
    assert json.loads((killed / "checkpoints" / "step_4" / "trainer_state.json").read_text())["completed_steps"] == 4
    # Updates 4 and 5 were done after the checkpoint and are lost with the kill.
    assert read_lrs(killed / "lr_trajectory.csv")[0] == list(range(kill_at))

    ref_lr = (reference / "lr_trajectory.csv").read_text()
    ref_loss = (reference / "loss_trajectory.csv").read_text()
    ref_metrics = metrics_of(reference)
    # The checkpoint falls mid-epoch on both process counts (5 and 3 updates per epoch), so batches are skipped.
    for method in ("initial_lr", "state"):
        resumed = tmp_path / f"resumed_{method}"
        subprocess.run(["cp", "-r", str(killed), str(resumed)], check=True)
        result = run_example(resumed, args + ["--resume_from_checkpoint", "latest", "--resume_method", method], num_processes)
        check_ok(result)
        assert f"by route '{method}' after 4 updates" in result.stdout
        metrics = metrics_of(resumed)
        assert metrics["resume_method"] == method and metrics["resumed_from"].endswith("step_4")
        assert metrics["optimizer_updates"] == total and metrics["world_size"] == num_processes
        # Exact: the same lr in every group at every update, the same losses, the same final model.
        assert (resumed / "lr_trajectory.csv").read_text() == ref_lr
        assert (resumed / "loss_trajectory.csv").read_text() == ref_loss
        assert metrics["eval_loss"] == ref_metrics["eval_loss"]
        assert metrics["eval_accuracy"] == ref_metrics["eval_accuracy"]

    steps, lrs = read_lrs(reference / "lr_trajectory.csv")
    assert steps == list(range(total))
    np.testing.assert_array_equal(lrs, expected_lrs("cosine", [2e-3, 2e-3, 5e-3], total, 2, total))


# ----------------------------------------------------------------------------------------------------------------------
# Launch checks and the default run.
# ----------------------------------------------------------------------------------------------------------------------
def test_cpu_flag_with_two_processes_is_refused(tmp_path):
    # `accelerate launch --cpu --num_processes 2` starts ONE process (the simple launcher); the example refuses.
    result = run_example(tmp_path, SMALL + ["--max_train_steps", "2"], launcher=["--cpu", "--num_processes", "2"])
    assert result.returncode != 0
    assert "refusing to train" in result.stderr and "ACCELERATE_USE_CPU=1" in result.stderr
    assert not (tmp_path / "metrics.json").exists()


def test_expected_num_processes_mismatch_is_refused(tmp_path):
    result = run_example(tmp_path, SMALL + ["--max_train_steps", "2", "--expected_num_processes", "2"])
    assert result.returncode != 0
    assert "--expected_num_processes 2 but this run has 1" in result.stderr


def test_default_run_learns_clearly_above_chance(tmp_path):
    result = run_example(tmp_path, [])
    check_ok(result)
    metrics = metrics_of(tmp_path)
    for key in ("eval_accuracy", "eval_loss", "num_processes", "optimizer_updates"):
        assert key in metrics
    # Chance is the majority-class rate of the built-in evaluation set (drawn after the training set).
    rng = np.random.default_rng(finetune.BUILTIN_DATA_SEED)
    finetune.builtin_examples(512, rng)
    labels = np.array(finetune.builtin_examples(256, rng)["label"])
    chance = max(labels.mean(), 1 - labels.mean())
    print(f"default run: eval_accuracy={metrics['eval_accuracy']:.4f} (chance {chance:.4f}), eval_loss={metrics['eval_loss']:.4f}")
    assert metrics["eval_accuracy"] >= chance + 0.25
    assert metrics["eval_loss"] < math.log(2)
    # 512 examples, batch 16, 3 epochs: 96 updates of the default linear schedule without warmup.
    assert metrics["optimizer_updates"] == 96 and metrics["num_processes"] == 1
    steps, lrs = read_lrs(tmp_path / "lr_trajectory.csv")
    assert steps == list(range(96))
    np.testing.assert_array_equal(lrs, expected_lrs("linear", [2e-3, 2e-3], 96, 0, 96))


# ----------------------------------------------------------------------------------------------------------------------
# Pieces, in-process.
# ----------------------------------------------------------------------------------------------------------------------
def test_trajectory_writer_drops_updates_after_the_checkpoint(tmp_path):
    path = tmp_path / "lr.csv"
    writer = finetune.TrajectoryWriter(path, ["step", "lr_0"], 0, True)
    for step in range(6):
        writer.write(step, [0.1 * step])
    writer.close()
    writer = finetune.TrajectoryWriter(path, ["step", "lr_0"], 4, True)  # resumed after 4 updates
    writer.write(4, [1.0])
    writer.close()
    assert read_rows(path)[1] == [["0", "0.0"], ["1", "0.1"], ["2", "0.2"], ["3", repr(0.1 * 3)], ["4", "1.0"]]


def test_latest_checkpoint_ignores_incomplete_folders(tmp_path):
    root = tmp_path / "checkpoints"
    for name, complete in (("step_4", True), ("step_12", True), ("step_16.tmp", True), ("step_20", False)):
        (root / name).mkdir(parents=True)
        if complete:
            (root / name / "trainer_state.json").write_text("{}")
    assert finetune.latest_checkpoint(tmp_path) == root / "step_12"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--num_warmup_steps", "2", "--warmup_ratio", "0.1"], "not both"),
        (["--gradient_accumulation_steps", "0"], "gradient_accumulation_steps"),
        (["--scheduler_kwargs", "[1]"], "JSON object"),
        (["--warmup_ratio", "1.5"], "warmup_ratio"),
    ],
)
def test_bad_arguments_are_rejected(argv, message, capsys):
    with pytest.raises(SystemExit):
        finetune.parse_args(["--output_dir", "x", *argv])
    assert message in capsys.readouterr().err


def test_resuming_with_another_schedule_is_refused():
    import torch

    def scheduler(name, warmup, total):
        optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
        return hf_lr.get_scheduler(name, optimizer, num_warmup_steps=warmup, num_training_steps=total)

    state = {"schedules": finetune.schedule_record(scheduler("cosine", 2, 10)), "num_processes": 1, "gradient_accumulation_steps": 2}
    finetune.check_resumable(state, scheduler("cosine", 2, 10), 1, 2)  # same configuration: accepted
    for name, warmup, total in (("linear", 2, 10), ("cosine", 3, 10), ("cosine", 2, 12)):
        with pytest.raises(SystemExit, match="another schedule configuration"):
            finetune.check_resumable(state, scheduler(name, warmup, total), 1, 2)
