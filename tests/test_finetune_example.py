"""End-to-end tests of examples/finetune.py: lr trajectories per optimizer update on 1 and 2 processes, exact resume
by both routes after a SIGKILL (TensorBoard with one point per update), launch checks, that the default run learns,
and the checkpoint and output-directory safety of examples/helpers (see also test_finetune_checkpoints.py).

Every run is a real subprocess (`python examples/finetune.py` for one process, `accelerate launch` with a real gloo
process group for two), offline, on a tiny model and a tiny slice of the built-in data. Crashes are injected by
tests/example_harness.py, so the example carries no test hooks.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import hf_lr

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "finetune.py"
HARNESS = ROOT / "tests" / "example_harness.py"
TIMEOUT = 240  # seconds per run: a hang fails the test instead of blocking CI

# A few updates per epoch so that runs cross epoch boundaries and checkpoints fall mid-epoch; with 72 examples, batch 8
# and accumulation 2 an epoch has 9 batches (5 updates, the last one a single batch) on 1 process and 5 batches per
# process (3 updates) on 2 processes.
SMALL = [
    "--num_train_examples",
    "72",
    "--num_eval_examples",
    "32",
    "--per_device_train_batch_size",
    "8",
    "--no-with_tracking",
]


def load_example():
    spec = importlib.util.spec_from_file_location("finetune_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


finetune = load_example()
finetune.register_example_schedules()
from examples_common import FILE_ROWS, FILE_VALIDATION_ROWS, eval_logits, free_port, tensorboard_points, write_data_file  # noqa: E402
from helpers import checkpoints, launch, records, task  # noqa: E402  (examples/ is on sys.path once the example is loaded)


def example_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.pop("ACCELERATE_USE_CPU", None)
    return env


def launch_command(
    num_processes: int, env: dict[str, str], *, use_cpu_env: bool = True, launcher: list[str] | None = None
) -> list[str]:
    """The command line up to the script: `python` for one process, `accelerate launch` (gloo on CPU) for several."""
    if launcher is None and num_processes == 1:
        return [sys.executable]
    if launcher is None:
        launcher = ["--multi_gpu", "--num_processes", str(num_processes)]
        if use_cpu_env:
            env["ACCELERATE_USE_CPU"] = "1"
    return [
        sys.executable, "-m", "accelerate.commands.launch", *launcher, "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port()),
    ]  # fmt: skip


def run_example(
    output_dir: Path,
    args: list[str],
    num_processes: int = 1,
    *,
    use_cpu_env: bool = True,
    launcher: list[str] | None = None,
    kill_after_update: int | None = None,
) -> subprocess.CompletedProcess:
    env = example_env()
    command = launch_command(num_processes, env, use_cpu_env=use_cpu_env, launcher=launcher)
    if kill_after_update is not None:  # every process SIGKILLs itself right after that update
        env["EXAMPLE_KILL_AFTER_UPDATE"] = str(kill_after_update)
        command.append(str(HARNESS))
    command += [str(EXAMPLE), "--output_dir", str(output_dir), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)


def check_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n--- stderr ---\n{result.stderr[-6000:]}"
    # The orderly shutdown must leave no aborting rank behind.
    assert "terminate called" not in result.stderr


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, list(reader)


def read_lrs(path: Path) -> tuple[list[int], np.ndarray]:
    header, _rows = read_rows(path)
    assert header[0] == "step" and header[1:] == [f"lr_{i}" for i in range(len(header) - 1)]
    return read_lrs_like(path)


def read_lrs_like(path: Path) -> tuple[list[int], np.ndarray]:
    """The steps and the value columns of a `step,...` CSV."""
    _, rows = read_rows(path)
    return [int(r[0]) for r in rows], np.array([[float(v) for v in r[1:]] for r in rows])


def expected_lrs(
    name: str, group_lrs: list[float], steps: int, warmup: int | None, total: int | None, **kwargs
) -> np.ndarray:
    """What the schedule defines at optimizer update 0..steps-1 for each group: base_lr * schedule.bind(base_lr, ref)(k),
    where the reference lr is the optimizer's lr (``--learning_rate``, the first group's).

    The scalar form, as the scheduler evaluates it: the vectorized ``values()`` agrees to ~1e-16 relative, not always
    to the bit (NumPy 1.22's AVX-512 ``cos`` can differ from ``math.cos`` in the last bit).
    """
    schedule = hf_lr.build_schedule(name, num_warmup_steps=warmup, num_training_steps=total, **kwargs)
    columns = [[lr * schedule.bind(lr, group_lrs[0])(step) for step in range(steps)] for lr in group_lrs]
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
    (
        finetune.CUSTOM_SCHEDULE_NAME,
        ["--num_warmup_steps", "2", "--scheduler_kwargs", '{"final_ratio": 0.1}'],
        2,
        {"final_ratio": 0.1},
        [2e-3, 2e-3],
        1,
    ),
]


# The example's custom name runs on one process only, to keep CI short.
TRAJECTORY_PARAMS = [
    pytest.param(case, n, id=f"{case[0]}-{n}proc")
    for case in TRAJECTORY_CASES
    for n in (1, 2)
    if not (case[0] == finetune.CUSTOM_SCHEDULE_NAME and n == 2)
]


@pytest.mark.parametrize(("case", "num_processes"), TRAJECTORY_PARAMS)
def test_lr_trajectory_follows_schedule_per_optimizer_update(tmp_path, case, num_processes):
    name, extra, warmup, kwargs, group_lrs, accumulation = case
    total = 8
    args = SMALL + [
        "--lr_scheduler_type",
        name,
        "--max_train_steps",
        str(total),
        "--gradient_accumulation_steps",
        str(accumulation),
        *extra,
    ]
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
    schedule = hf_lr.build_schedule(
        finetune.CUSTOM_SCHEDULE_NAME, num_warmup_steps=2, num_training_steps=6, final_ratio=0.25
    )
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
    # On one process the killed and resumed runs also write TensorBoard logs (kept off elsewhere for speed).
    tracked = [a for a in args if a != "--no-with_tracking"] if num_processes == 1 else args

    killed = tmp_path / "killed"
    result = run_example(killed, tracked, num_processes, kill_after_update=kill_at)
    if num_processes == 1:
        assert result.returncode == -signal.SIGKILL
    else:
        assert result.returncode != 0 and "SIGKILL" in result.stderr
    assert not (killed / "metrics.json").exists()
    checkpoint_names = sorted(p.name for p in (killed / "checkpoints").iterdir())
    assert checkpoint_names == ["step_4"]
    assert json.loads((killed / "checkpoints" / "step_4" / "trainer_state.json").read_text())["completed_steps"] == 4
    # Updates 4 and 5 were done after the checkpoint and are lost with the kill.
    assert read_lrs(killed / "lr_trajectory.csv")[0] == list(range(kill_at))
    if tracked is not args:
        assert sorted(step for step, _ in tensorboard_points(killed / "logs")["lr_0"]) == list(range(kill_at))

    ref_lr = (reference / "lr_trajectory.csv").read_text()
    ref_loss = (reference / "loss_trajectory.csv").read_text()
    ref_metrics = metrics_of(reference)
    # The checkpoint falls mid-epoch on both process counts (5 and 3 updates per epoch), so batches are skipped.
    for method in ("initial_lr", "state"):
        resumed = tmp_path / f"resumed_{method}"
        subprocess.run(["cp", "-r", str(killed), str(resumed)], check=True)
        result = run_example(
            resumed, tracked + ["--resume_from_checkpoint", "latest", "--resume_method", method], num_processes
        )
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
        if tracked is not args:
            # Updates 4 and 5, logged before the kill, are logged again after the resume: exactly one point per
            # update and tag remains, with the uninterrupted run's values (TensorBoard stores float32).
            points = tensorboard_points(resumed / "logs")
            _, ref_lrs = read_lrs(reference / "lr_trajectory.csv")
            _, ref_losses = read_lrs_like(reference / "loss_trajectory.csv")
            for tag, column in [("lr_0", ref_lrs[:, 0]), ("lr_2", ref_lrs[:, 2]), ("train_loss", ref_losses[:, 0])]:
                assert [step for step, _ in points[tag]] == list(range(total)), tag
                np.testing.assert_array_equal(np.float32([v for _, v in points[tag]]), np.float32(column))
            assert points["eval_loss"] == [(total, pytest.approx(ref_metrics["eval_loss"], rel=1e-6))]

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
    rng = np.random.default_rng(task.BUILTIN_DATA_SEED)
    task.builtin_examples(512, rng)
    labels = np.array(task.builtin_examples(256, rng)["label"])
    chance = max(labels.mean(), 1 - labels.mean())
    print(
        f"default run: eval_accuracy={metrics['eval_accuracy']:.4f} (chance {chance:.4f}), eval_loss={metrics['eval_loss']:.4f}"
    )
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
    writer = records.TrajectoryWriter(path, ["step", "lr_0"], 0, True)
    for step in range(6):
        writer.write(step, [0.1 * step])
    writer.close()
    writer = records.TrajectoryWriter(path, ["step", "lr_0"], 4, True)  # resumed after 4 updates
    writer.write(4, [1.0])
    writer.close()
    assert read_rows(path)[1] == [["0", "0.0"], ["1", "0.1"], ["2", "0.2"], ["3", repr(0.1 * 3)], ["4", "1.0"]]


def fake_checkpoint(folder: Path, step: int, manifest: bool = True) -> None:
    """The files `verify` reads, consistent at update `step` (a real run's checkpoint has more)."""
    import torch

    folder.mkdir(parents=True)
    (folder / "trainer_state.json").write_text(json.dumps({"completed_steps": step}))
    torch.save({"last_epoch": step}, folder / "scheduler.bin")
    torch.save({"state": {}, "param_groups": []}, folder / "optimizer.bin")
    if manifest:
        checkpoints.write_manifest(folder, step)


def test_latest_checkpoint_ignores_incomplete_folders(tmp_path, capsys):
    root = tmp_path / "checkpoints"
    for name, step, complete in (
        ("step_4", 4, True),
        ("step_12", 12, True),
        ("step_16.tmp", 16, True),
        ("step_20", 20, False),
    ):
        fake_checkpoint(root / name, step, manifest=complete)
    checkpoint = checkpoints.resolve("latest", tmp_path, "finetune.py")
    assert checkpoint.path == root / "step_12" and checkpoint.completed_steps == 12
    assert capsys.readouterr().err.splitlines() == [
        f"finetune.py: skipping checkpoint {root / 'step_20'}: no manifest.json (an interrupted save, or not written by "
        "this example); falling back to the previous one"
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
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

    state = {
        "schedules": checkpoints.schedule_record(scheduler("cosine", 2, 10)),
        "num_processes": 1,
        "gradient_accumulation_steps": 2,
    }
    checkpoint = checkpoints.Checkpoint(Path("step_4"), 4, state)
    checkpoints.check_compatible(checkpoint, scheduler("cosine", 2, 10), 1, 2)  # same configuration: accepted
    for name, warmup, total in (("linear", 2, 10), ("cosine", 3, 10), ("cosine", 2, 12)):
        with pytest.raises(SystemExit, match="another schedule configuration"):
            checkpoints.check_compatible(checkpoint, scheduler(name, warmup, total), 1, 2)


# ----------------------------------------------------------------------------------------------------------------------
# Flags: one line, exit status 2, close matches for a schedule name.
# ----------------------------------------------------------------------------------------------------------------------
def test_bad_schedule_name_is_one_line_with_a_close_match(tmp_path):
    result = run_example(tmp_path / "out", ["--lr_scheduler_type", "cosin"])
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith(
        "finetune.py: error: --lr_scheduler_type cosin: unknown schedule name 'cosin'. Did you mean 'cosine'"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr_scheduler_type", "lineer"], "Did you mean 'linear'"),
        (["--lr_scheduler_type", "noam", "--num_warmup_steps", "2", "--max_train_steps", "8"], "needs `d_model`"),
        (["--lr_scheduler_type", "linear", "--num_warmup_steps", "9", "--max_train_steps", "4"], "num_warmup_steps"),
        (
            ["--lr_scheduler_type", "cosine", "--scheduler_kwargs", '{"num_cycle": 1}'],
            "unknown argument(s) 'num_cycle'",
        ),
        (["--lr_scheduler_type", "reduce_lr_on_plateau"], "steps on a metric"),
        (["--train_file", "no/such/file.csv"], "--train_file no/such/file.csv: no such file"),
        (["--train_file", "setup.cfg"], "expected a .csv, .json or .jsonl file"),
        (["--validation_file", "README.md"], "--validation_file needs --train_file"),
        (["--dataset_name", "data.csv"], "a local file goes in --train_file"),
        (["--validation_split_percentage", "0"], "must be in (0, 100)"),
    ],
)
def test_bad_flags_are_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        finetune.parse_args(["--output_dir", "x", *argv])
    assert raised.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("finetune.py: error: ") and message in lines[0], lines


# ----------------------------------------------------------------------------------------------------------------------
# One run from a single data file, with checkpoints; the tests below work on copies of it.
# ----------------------------------------------------------------------------------------------------------------------
FILE_RUN = ["--per_device_train_batch_size", "8", "--no-with_tracking", "--num_warmup_steps", "2",
            "--max_train_steps", "8", "--checkpointing_steps", "3"]  # fmt: skip


@pytest.fixture(scope="module")
def file_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("file_run")
    write_data_file(root / "data.csv", FILE_ROWS, seed=7)
    result = run_example(root / "out", FILE_RUN + ["--train_file", str(root / "data.csv")])
    check_ok(result)
    return root


def copy_of(file_run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(file_run / "out", copy)
    return copy


def test_a_single_train_file_is_split_with_a_fixed_seed(file_run):
    metrics = metrics_of(file_run / "out")
    assert metrics["eval_examples"] == FILE_VALIDATION_ROWS and metrics["optimizer_updates"] == 8
    # The held-out rows are the same whatever --seed: the run's predictions are for exactly those rows.
    parse = lambda seed: finetune.parse_args(["--train_file", str(file_run / "data.csv"), "--seed", seed])
    held_out = [task.load_raw(parse(seed))["validation"] for seed in ("42", "3")]
    assert held_out[0]["text"] == held_out[1]["text"] and len(held_out[0]) == FILE_VALIDATION_ROWS
    assert len(task.load_raw(parse("42"))["train"]) == FILE_ROWS - FILE_VALIDATION_ROWS
    label_ids = {"negative": 0, "positive": 1}  # string labels become ids in sorted order
    _, rows = read_rows(file_run / "out" / records.PREDICTIONS_NAME)
    assert [int(r[1]) for r in rows] == [label_ids[label] for label in held_out[0]["label"]]


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_train_and_validation_files_in_json_and_jsonl(tmp_path, suffix):
    write_data_file(tmp_path / f"train{suffix}", 30, seed=1)
    validation = write_data_file(tmp_path / f"validation{suffix}", 12, seed=2)
    args = finetune.parse_args(
        ["--train_file", str(tmp_path / f"train{suffix}"), "--validation_file", str(tmp_path / f"validation{suffix}")]
    )
    train, evaluation, _tokenizer, model = task.load(args)
    assert (len(train), len(evaluation)) == (30, 12)
    assert evaluation["labels"] == [int(label == "positive") for label in validation["label"]]
    assert model.config.id2label == {0: "negative", 1: "positive"}


def test_the_model_and_every_checkpoint_reload_with_from_pretrained(file_run):
    out = file_run / "out"
    texts = task.load_raw(finetune.parse_args(["--train_file", str(file_run / "data.csv")]))["validation"]["text"]
    _header, rows = read_rows(out / records.PREDICTIONS_NAME)
    predicted = np.array([[float(v) for v in row[3:]] for row in rows])
    # The fine-tuned model, reloaded, gives the logits the in-memory model gave at the end of the run.
    final = eval_logits(out, texts)
    np.testing.assert_allclose(final, predicted, rtol=1e-5, atol=1e-6)
    assert [int(r[2]) for r in rows] == final.argmax(1).tolist()
    # Every checkpoint is a from_pretrained folder too: config, weights and tokenizer.
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_3", "step_6"]
    for name in ("step_3", "step_6"):
        assert (out / "checkpoints" / name / "config.json").is_file()
        logits = eval_logits(out / "checkpoints" / name, texts)
        assert logits.shape == final.shape and not np.allclose(logits, final, atol=1e-4)  # earlier weights


# ----------------------------------------------------------------------------------------------------------------------
# Checkpoints: verified on resume; `latest` falls back past a damaged one; edits are refused.
# ----------------------------------------------------------------------------------------------------------------------
def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(file_run, tmp_path):
    out = copy_of(file_run, tmp_path)
    weights = out / "checkpoints" / "step_6" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle of the tensors: still loadable, silently wrong
    weights.write_bytes(bytes(data))
    args = FILE_RUN + ["--train_file", str(file_run / "data.csv"), "--resume_from_checkpoint", "latest"]
    result = run_example(out, args)
    check_ok(result)
    skipped = [line for line in result.stderr.splitlines() if "skipping checkpoint" in line]
    assert skipped == [
        f"finetune.py: skipping checkpoint {out / 'checkpoints' / 'step_6'}: model.safetensors does not match its "
        "checksum in manifest.json (damaged or edited); falling back to the previous one"
    ]
    assert "by route 'initial_lr' after 3 updates" in result.stdout
    assert metrics_of(out)["resumed_from"] == str(out / "checkpoints" / "step_3")
    # Resumed from step_3, the run redoes updates 3..7 exactly, and writes an intact step_6 again.
    for name in (records.LR_TRAJECTORY_NAME, records.LOSS_TRAJECTORY_NAME):
        assert (out / name).read_text() == (file_run / "out" / name).read_text()
    assert checkpoints.verify(out / "checkpoints" / "step_6").completed_steps == 6


def test_an_edited_update_count_is_refused(file_run, tmp_path):
    """The default route (initial_lr) used to take the count from trainer_state.json and resume on other weights."""
    out = copy_of(file_run, tmp_path)
    step_6 = out / "checkpoints" / "step_6"
    state = json.loads((step_6 / "trainer_state.json").read_text())
    (step_6 / "trainer_state.json").write_text(json.dumps({**state, "completed_steps": 7}, indent=2) + "\n")
    before = (out / records.LR_TRAJECTORY_NAME).read_text()
    args = FILE_RUN + ["--train_file", str(file_run / "data.csv"), "--resume_from_checkpoint", str(step_6)]
    result = run_example(out, args)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stderr.strip().splitlines() == [
        f"finetune.py: error: refusing to resume from {step_6}: trainer_state.json does not match its checksum in "
        "manifest.json (damaged or edited)"
    ]
    assert (out / records.LR_TRAJECTORY_NAME).read_text() == before  # nothing trained, nothing rewritten


def resign(folder: Path, count: int) -> None:
    """Rewrite the manifest of an edited checkpoint, as someone covering the edit would."""
    checkpoints.write_manifest(folder, count)


def test_update_counts_that_disagree_are_refused_even_with_matching_checksums(file_run, tmp_path):
    import torch

    out = copy_of(file_run, tmp_path)
    step_3, step_6 = out / "checkpoints" / "step_3", out / "checkpoints" / "step_6"
    assert checkpoints.verify(step_6).completed_steps == 6
    # trainer_state.json says 7, the manifest is re-signed: the scheduler state still says 6.
    state = json.loads((step_6 / "trainer_state.json").read_text())
    (step_6 / "trainer_state.json").write_text(json.dumps({**state, "completed_steps": 7}))
    resign(step_6, 7)
    with pytest.raises(
        checkpoints.CheckpointError, match="manifest.json says 7, trainer_state.json 7, the scheduler state 6"
    ):
        checkpoints.verify(step_6)
    # The scheduler state of step_3 copied into step_6, re-signed with the right count: caught by the scheduler state.
    (step_6 / "trainer_state.json").write_text(json.dumps(state))
    shutil.copy(step_3 / "scheduler.bin", step_6 / "scheduler.bin")
    resign(step_6, 6)
    assert torch.load(step_6 / "scheduler.bin", weights_only=True)["last_epoch"] == 3
    with pytest.raises(
        checkpoints.CheckpointError, match="manifest.json says 6, trainer_state.json 6, the scheduler state 3"
    ):
        checkpoints.verify(step_6)
    # A missing file, an unreadable manifest.
    (step_3 / "optimizer.bin").unlink()
    with pytest.raises(checkpoints.CheckpointError, match="optimizer.bin is missing"):
        checkpoints.verify(step_3)
    (step_3 / "manifest.json").write_text('{"files": ')
    with pytest.raises(checkpoints.CheckpointError, match="manifest.json is unreadable"):
        checkpoints.verify(step_3)
    # With nothing intact left, `latest` refuses and says why for each.
    with pytest.raises(
        SystemExit,
        match=r"no intact checkpoint under .*step_6: the update counts disagree.*step_3: manifest.json is unreadable",
    ):
        checkpoints.resolve("latest", out, "finetune.py")


def test_a_fresh_run_into_a_folder_with_checkpoints_is_refused(file_run, tmp_path):
    out = copy_of(file_run, tmp_path)
    with pytest.raises(
        SystemExit,
        match=r"holds checkpoints of an earlier run \(step_6, step_3\); pass --resume_from_checkpoint latest",
    ):
        checkpoints.resolve(None, out, "finetune.py")
    assert checkpoints.verify(out / "checkpoints" / "step_6").completed_steps == 6  # untouched


# ----------------------------------------------------------------------------------------------------------------------
# One run per output directory; workers stop with their launcher.
# ----------------------------------------------------------------------------------------------------------------------
def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def test_a_second_run_is_refused_and_workers_stop_when_the_launcher_is_killed(tmp_path):
    import psutil

    out = tmp_path / "out"
    env = example_env()
    command = launch_command(2, env) + [str(EXAMPLE), "--output_dir", str(out), *SMALL, "--max_train_steps", "100000"]
    # The launcher in a session of its own, so that its whole process group can be killed as a job scheduler would.
    launcher = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    workers: list = []
    try:
        wait_for(
            lambda: (
                len((out / "lr_trajectory.csv").read_text().splitlines()) > 2
                if (out / "lr_trajectory.csv").exists()
                else False
            ),
            TIMEOUT,
            "training to start",
        )
        workers = psutil.Process(launcher.pid).children(recursive=True)
        assert len(workers) == 2
        # A second run into the same folder is refused, naming the running job.
        second = run_example(out, SMALL + ["--max_train_steps", "2"])
        assert second.returncode == 1 and "Traceback" not in second.stderr, second.stderr[-3000:]
        owner = (out / "run.lock").read_text().strip()
        assert owner.startswith("pid=") and int(owner.split()[0][4:]) in {w.pid for w in workers}
        assert second.stderr.strip().splitlines() == [
            f"finetune.py: error: --output_dir {out} is in use by a running job ({owner}; lock {out / 'run.lock'}); a "
            "second run would overwrite its checkpoints. Wait for it to end, stop it, or choose another --output_dir"
        ]
        assert not (out / "metrics.json").exists()

        # Rank 1 frozen (SIGSTOP) and rank 0 blocked in a collective with it: neither could run a Python watchdog thread.
        next(w for w in workers if w.pid != int(owner.split()[0][4:])).suspend()
        time.sleep(1.0)
        os.killpg(launcher.pid, signal.SIGKILL)  # the launcher and its group; torchrun's workers are not in it
        launcher.wait(timeout=30)

        def gone(process) -> bool:
            try:
                return process.status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                return True

        # A zombie leader may still have threads exiting (holding its files): the lock being free is the proof.
        wait_for(
            lambda: all(gone(w) for w in workers) and lock_is_free(out / "run.lock"),
            30,
            "the workers to stop after their launcher was killed",
        )
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
        for worker in workers:  # on failure, do not leave them training
            with contextlib.suppress(psutil.NoSuchProcess):
                worker.kill()
    # Nothing trains any more, and a new run may take the folder.
    rows = (out / "lr_trajectory.csv").read_text()
    time.sleep(1.0)
    assert (out / "lr_trajectory.csv").read_text() == rows
    launch.release_output_dir(launch.lock_output_dir(out, "finetune.py"))


def lock_is_free(path: Path) -> bool:
    import fcntl

    with path.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return True


def test_the_lock_refuses_a_second_holder_and_takes_over_a_stale_one(tmp_path, capsys):
    handle = launch.lock_output_dir(tmp_path, "finetune.py")
    try:
        with pytest.raises(SystemExit, match=f"is in use by a running job \\(pid={os.getpid()} "):
            launch.lock_output_dir(tmp_path, "finetune.py")
    finally:
        launch.release_output_dir(handle)
    handle = launch.lock_output_dir(tmp_path, "finetune.py")  # released: free again, and no stale record
    launch.release_output_dir(handle)
    assert capsys.readouterr().err == ""
    # The record of an owner that died without releasing (SIGKILL, the launcher watchdog): reported, then taken over.
    record = "pid=999999 host=elsewhere started=2026-01-01T00:00:00"
    (tmp_path / "run.lock").write_text(record + "\n")
    handle = launch.lock_output_dir(tmp_path, "finetune.py")
    assert (
        capsys.readouterr().err
        == f"finetune.py: {tmp_path / 'run.lock'}: stale lock of a run that is gone ({record}); taking it over\n"
    )
    assert (tmp_path / "run.lock").read_text().startswith(f"pid={os.getpid()} ")
    launch.release_output_dir(handle)
    assert (tmp_path / "run.lock").read_text() == ""


@pytest.mark.parametrize("method", ["initial_lr", "state"])
def test_resume_with_a_larger_max_train_steps_extends_the_schedule_when_asked(tmp_path, method):
    """Run 8 updates (checkpoint at 4); resume from step_4 with --max_train_steps 14 --extend_schedule stretch: the
    updates after the checkpoint follow the checkpoint's schedule stretched at update 4 to end at 14. Without the
    flag, the larger size is refused."""
    args = SMALL + ["--lr_scheduler_type", "cosine", "--num_warmup_steps", "2", "--checkpointing_steps", "4"]
    first = tmp_path / "first"
    check_ok(run_example(first, args + ["--max_train_steps", "8"]))
    resumed = tmp_path / "resumed"
    shutil.copytree(first / "checkpoints", resumed / "checkpoints")
    common = args + [
        "--max_train_steps",
        "14",
        "--resume_from_checkpoint",
        str(resumed / "checkpoints" / "step_4"),
        "--resume_method",
        method,
    ]
    refused = run_example(resumed, common)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr[-2000:]
    check_ok(run_example(resumed, common + ["--extend_schedule", "stretch"]))
    steps, lrs = read_lrs(resumed / "lr_trajectory.csv")
    assert steps[-10:] == list(range(4, 14))
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=2e-3)
    reference = hf_lr.get_scheduler("cosine", optimizer, 2, 8, completed_steps=4)
    reference.extend(14)
    np.testing.assert_allclose(lrs[-10:, 0], hf_lr.lr_curve(reference, 14)[4:], rtol=1e-14, atol=0)  # NumPy's cos
