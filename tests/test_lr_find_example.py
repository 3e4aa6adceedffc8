"""examples/lr_find.py end to end, and the LR range test's promise on the example's default model and data.

- The script as a subprocess: its CSV, JSON and PNG agree with each other; bad input is one line and a non-zero exit.
- Acceptance (issue 7): training a fresh default model at the suggestion for 250 AdamW updates lowers the loss well
  below chance, and the same check fails at 1e-4x and at 100x the suggestion (so it can fail).
- ``find_lr`` on this model puts back every tensor of the model and optimizer bit for bit.

Everything is offline (built-in tiny BERT, generated data) and runs on one CPU process.
"""

from __future__ import annotations

import copy
import csv
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import hf_lr

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "lr_find.py"
TIMEOUT = 240  # seconds per subprocess: a hang fails the test instead of blocking CI
TRAIN_UPDATES = 250
WINDOW = 20  # losses averaged at each end of a training run


def load_example():
    spec = importlib.util.spec_from_file_location("lr_find_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = load_example()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: as fast for this tiny model, and immune to the collapse of OpenMP's spinning thread pool
    when other processes share the cores (2 threads on a busy 2-core machine made 250 updates take 100 s, not 2 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run_example(output_dir: Path, args: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.pop("ACCELERATE_USE_CPU", None)
    command = [sys.executable, str(EXAMPLE), "--output_dir", str(output_dir), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)


# --------------------------------------------------------------------------------------------------------------------
# The script
# --------------------------------------------------------------------------------------------------------------------
def test_script_writes_consistent_outputs(tmp_path: Path) -> None:
    start_lr, end_lr = 1e-5, 1.0
    args = [
        "--start_lr",
        str(start_lr),
        "--end_lr",
        str(end_lr),
        "--num_steps",
        "40",
        "--num_train_examples",
        "64",
        "--per_device_train_batch_size",
        "8",
        "--gradient_accumulation_steps",
        "2",
        "--seed",
        "3",
    ]
    result = run_example(tmp_path, args)
    assert result.returncode == 0, f"exit {result.returncode}\n--- stderr ---\n{result.stderr[-6000:]}"

    with (tmp_path / "lr_find.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["lr", "loss", "smoothed"]
    values = np.array([[float(v) for v in row] for row in rows[1:]])
    summary = json.loads((tmp_path / "lr_find.json").read_text())
    png = (tmp_path / "lr_find.png").read_bytes()

    assert len(values) == summary["num_points"] and 2 <= summary["num_points"] <= 40
    if summary["num_points"] < 40:
        assert summary["stopped_early"]
    assert (summary["num_steps"], summary["gradient_accumulation_steps"], summary["num_processes"]) == (40, 2, 1)
    lrs = values[:, 0]
    assert lrs[0] == pytest.approx(start_lr) and np.all(np.diff(lrs) > 0) and lrs[-1] <= end_lr * (1 + 1e-12)
    if not summary["stopped_early"]:
        assert lrs[-1] == pytest.approx(end_lr)
    assert np.all(np.isfinite(values))
    suggestion = summary["suggestion"]
    assert suggestion is not None and lrs[0] <= suggestion <= lrs[-1]
    assert np.min(np.abs(lrs / suggestion - 1)) < 1e-12  # one of the tested learning rates (up to exp(log(lr)))
    assert f"suggested learning rate: {suggestion:.3g}" in result.stdout
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


BAD_INPUT = [
    (["--start_lr", "0"], "--start_lr must be a finite number > 0"),
    (["--start_lr", "nan"], "--start_lr must be a finite number > 0"),
    (["--start_lr", "1e-2", "--end_lr", "1e-3"], "--end_lr must be > --start_lr"),
    (["--num_steps", "1"], "--num_steps must be >= 2"),
    (["--num_steps", "ten"], "invalid int value: 'ten'"),
    (["--mode", "cosine"], "invalid choice: 'cosine'"),
    (["--gradient_accumulation_steps", "0"], "--gradient_accumulation_steps must be >= 1"),
    (["--per_device_train_batch_size", "0"], "--per_device_train_batch_size must be >= 1"),
    (["--train_file", "no/such/file.csv"], "--train_file no/such/file.csv: no such file"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_is_one_line(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        example.parse_args(args)
    assert raised.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lr_find.py: error: ") and message in lines[0], lines


def test_script_exits_with_one_line_for_bad_input(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    for args, message in [(["--end_lr", "1e-9"], "--end_lr must be > --start_lr"), ([], "exists and is not a folder")]:
        result = run_example(tmp_path / "file" if not args else tmp_path / "out", args)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and message in lines[0], result.stderr
        assert result.stdout == "" and not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------------------------------
# The suggestion on the default model and data trains it; 1e-4x and 100x the suggestion do not
# --------------------------------------------------------------------------------------------------------------------
def default_setup(output_dir: Path) -> tuple[Any, Any, Any, Any, Any]:
    args = example.parse_args(["--output_dir", str(output_dir)])  # the script's defaults, nothing else
    accelerator = example.make_accelerator(args)
    return (args, accelerator, *example.build(args, accelerator))


def train_losses(output_dir: Path, lr: float, num_updates: int = TRAIN_UPDATES) -> list[float]:
    """A fresh default model (same seed, data and data order as the range test), AdamW at a constant ``lr``."""
    _args, accelerator, model, optimizer, loader = default_setup(output_dir)
    for group in optimizer.param_groups:
        group["lr"] = lr
    model.train()
    losses: list[float] = []
    while len(losses) < num_updates:
        for batch in loader:
            optimizer.zero_grad()
            loss = model(**batch).loss
            accelerator.backward(loss)
            optimizer.step()
            losses.append(float(loss.detach()))
            if len(losses) == num_updates:
                break
    return losses


def trained(losses: list[float]) -> bool:
    """The loss clearly fell, and to well below chance level.

    Two conditions because a too-large lr fools the first one alone: at 100x the suggestion the first updates blow the
    loss up to 1-2 and it then sinks back towards chance (ln 2), so the last/first ratio is 0.6-0.75 although the model
    learned nothing. A model that learned the task ends far below ln 2 (about 0.03 at the suggestion).
    """
    first, last = np.mean(losses[:WINDOW]), np.mean(losses[-WINDOW:])
    return bool(last < 0.8 * first and last < 0.5 * math.log(2))


def test_training_at_the_suggestion_lowers_the_loss(tmp_path: Path) -> None:
    args, accelerator, model, optimizer, loader = default_setup(tmp_path)
    result = example.range_test(args, accelerator, model, optimizer, loader)
    suggestion = result.suggestion
    assert suggestion is not None and min(result.lrs) <= suggestion <= max(result.lrs)

    at_suggestion = train_losses(tmp_path, suggestion)
    report = {"suggestion": suggestion}
    report["at suggestion (first, last)"] = (np.mean(at_suggestion[:WINDOW]), np.mean(at_suggestion[-WINDOW:]))
    assert trained(at_suggestion), report

    # Controls: the check above can fail. 1e-4x the suggestion barely moves the weights (the loss stays at ln 2, the
    # ratio is 1.00 for every seed we tried); 100x makes AdamW diverge and the loss never gets below ln 2 again.
    too_small = train_losses(tmp_path, suggestion * 1e-4)
    too_large = train_losses(tmp_path, suggestion * 100)
    report["at 1e-4x (first, last)"] = (np.mean(too_small[:WINDOW]), np.mean(too_small[-WINDOW:]))
    report["at 100x (first, last)"] = (np.mean(too_large[:WINDOW]), np.mean(too_large[-WINDOW:]))
    assert not trained(too_small), report
    assert not trained(too_large), report
    assert np.mean(too_small[-WINDOW:]) > 0.95 * np.mean(too_small[:WINDOW]), report  # clearly worse: no progress
    assert np.mean(too_large[-WINDOW:]) > 5 * np.mean(at_suggestion[-WINDOW:]), report
    print(report)


# --------------------------------------------------------------------------------------------------------------------
# find_lr leaves the default model and its optimizer exactly as they were
# --------------------------------------------------------------------------------------------------------------------
def snapshot(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    return {
        "model": {name: tensor.detach().clone() for name, tensor in model.state_dict().items()},
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "lrs": [group["lr"] for group in optimizer.param_groups],
        "grads": [None if p.grad is None else p.grad.detach().clone() for p in model.parameters()],
        "training": [module.training for module in model.modules()],
        "rng": torch.get_rng_state(),
    }


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Every tensor or value that is not identical, bit for bit (``torch.equal`` and equal dtypes)."""
    found = []

    def same(a: Any, b: Any) -> bool:
        if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
            return (
                isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
            )
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return type(a) is type(b) and a == b

    assert before["model"].keys() == after["model"].keys()
    found += [f"model.{name}" for name in before["model"] if not same(before["model"][name], after["model"][name])]
    state_before, state_after = before["optimizer"]["state"], after["optimizer"]["state"]
    if state_before.keys() != state_after.keys():
        found.append("optimizer.state keys")
    found += [
        f"optimizer.state[{key}]"
        for key in state_before
        if key in state_after and not same(state_before[key], state_after[key])
    ]
    found += [
        f"optimizer.param_groups[{i}]"
        for i, (a, b) in enumerate(zip(before["optimizer"]["param_groups"], after["optimizer"]["param_groups"]))
        if not same(a, b)
    ]
    found += [name for name in ("lrs", "grads", "training", "rng") if not same(before[name], after[name])]
    return found


def test_find_lr_restores_the_default_model_bit_for_bit(tmp_path: Path) -> None:
    args, accelerator, model, optimizer, loader = default_setup(tmp_path)
    # A few real updates first, so that AdamW has state (step, exp_avg, exp_avg_sq) and the parameters hold gradients.
    model.train()
    for _, batch in zip(range(3), loader):
        optimizer.zero_grad()
        accelerator.backward(model(**batch).loss)
        optimizer.step()
    model.eval()  # a mode find_lr changes (it trains) and must put back
    before = snapshot(model, optimizer)
    assert len(before["optimizer"]["state"]) == sum(1 for p in model.parameters() if p.requires_grad)
    assert all(g is not None for g in before["grads"])

    result = example.range_test(args, accelerator, model, optimizer, loader)
    assert len(result.lrs) > 100  # the test really trained, far enough to change every weight
    assert differences(before, snapshot(model, optimizer)) == []

    # Control: the same comparison sees what a test without restoring leaves behind.
    unrestored = hf_lr.find_lr(
        model, optimizer, loader, start_lr=1e-4, end_lr=1e-2, num_steps=5, restore=False, accelerator=accelerator
    )
    assert len(unrestored.lrs) == 5
    changed = differences(before, snapshot(model, optimizer))
    assert "model.bert.embeddings.word_embeddings.weight" in changed and "lrs" in changed and "training" in changed
    assert any(name.startswith("optimizer.state") for name in changed)
