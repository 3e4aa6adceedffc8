"""clock="updates": the schedule counts real optimizer updates, whoever calls step() and however often.

And the default clock's guard: a scheduler stepped past its schedule's end warns once (ScheduleOverrunWarning), and
stays silent in a correctly sized run.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

import hf_lr

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).with_name("accelerate_clock_run.py")


def _optimizer(lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=lr)


#: lr_curve (NumPy) equals the scheduler's scalar values, or within a few units in the last place (its docstring).
ULPS = 1e-14


def _curve(name: str, steps: int, w: int | None, t: int | None, **kwargs: Any) -> list[float]:
    return [
        float(v) for v in hf_lr.lr_curve(name, steps, base_lr=0.1, num_warmup_steps=w, num_training_steps=t, **kwargs)
    ]


@pytest.mark.parametrize("accumulation", [1, 2, 4])
@pytest.mark.parametrize(("name", "w", "t"), [("linear", 2, 12), ("cosine", 3, 12), ("noam", 3, None)])
def test_a_loop_that_steps_the_scheduler_per_micro_batch_follows_the_schedule_per_update(
    name: str, w: int, t: int | None, accumulation: int
) -> None:
    optimizer = _optimizer()
    kwargs = {"d_model": 16, "mode": "peak"} if name == "noam" else {}
    scheduler = hf_lr.get_scheduler(name, optimizer, w, t, dict(kwargs), clock="updates")
    used = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overrun, and no torch "step() before optimizer.step()" false alarm
        for micro in range(12 * accumulation):
            if micro % accumulation == accumulation - 1:
                used.append(optimizer.param_groups[0]["lr"])
                optimizer.step()
            scheduler.step()  # once per micro-batch: the extra calls are no-ops
    # lr_curve is NumPy's; equal to the scheduler's scalar values but for a few ULPs (NumPy 1.22's AVX-512 cos)
    assert used == pytest.approx(_curve(name, 12, w, t, scheduler_specific_kwargs=kwargs), rel=ULPS, abs=0)
    assert scheduler.last_epoch == scheduler.updates == 12


def test_updates_a_grad_scaler_skipped_do_not_count() -> None:
    param = torch.nn.Parameter(torch.ones(2))
    optimizer = torch.optim.SGD([param], lr=0.1)
    scheduler = hf_lr.get_scheduler("linear", optimizer, 2, 10, clock="updates")
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8)
    used, skipped = [], {3, 4, 9}
    for step in range(13):
        optimizer.zero_grad()
        loss = (param * (float("inf") if step in skipped else 1.0)).sum()
        scaler.scale(loss).backward()
        lr, scale = optimizer.param_groups[0]["lr"], scaler.get_scale()
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()  # called every iteration, as in torch's AMP recipe
        if scaler.get_scale() >= scale:  # the scaler backs off only when it skipped the update
            used.append(lr)
    assert len(used) == 10
    assert used == _curve("linear", 10, 2, 10)  # the real updates follow the schedule exactly
    assert scheduler.updates == 10


@pytest.mark.parametrize("route", ["completed_steps", "last_epoch", "state"])
def test_resume_with_the_updates_clock_is_exact_by_every_route(route: str) -> None:
    def run(optimizer: torch.optim.Optimizer, scheduler: Any, updates: int) -> list[float]:
        used = []
        for _ in range(updates):
            used.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
            scheduler.step()  # a second call per update (Accelerate on 2 processes): a no-op
        return used

    reference_optimizer = _optimizer()
    reference = run(reference_optimizer, hf_lr.get_scheduler("cosine", reference_optimizer, 2, 12, clock="updates"), 12)
    optimizer = _optimizer()
    scheduler = hf_lr.get_scheduler("cosine", optimizer, 2, 12, clock="updates")
    first = run(optimizer, scheduler, 5)
    buffer = io.BytesIO()
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer, weights_only=True)
    assert checkpoint["scheduler"]["hf_lr"]["clock"] == {"kind": "updates", "updates": 5, "offset": 0}
    optimizer = _optimizer()
    if route == "state":  # as Trainer, Accelerate and Lightning do: build both, then load both
        scheduler = hf_lr.get_scheduler("cosine", optimizer, 2, 12, clock="updates")
    optimizer.load_state_dict(checkpoint["optimizer"])
    if route == "completed_steps":
        scheduler = hf_lr.get_scheduler("cosine", optimizer, 2, 12, completed_steps=5, clock="updates")
    elif route == "last_epoch":
        scheduler = hf_lr.get_cosine_schedule_with_warmup(optimizer, 2, 12, last_epoch=4, clock="updates")
    else:
        scheduler.load_state_dict(checkpoint["scheduler"])
    assert first + run(optimizer, scheduler, 7) == reference


def test_pickled_scheduler_keeps_counting_updates_on_its_own_optimizer() -> None:
    optimizer = _optimizer()
    scheduler = hf_lr.get_scheduler("linear", optimizer, 0, 10, clock="updates")
    optimizer.step()
    scheduler.step()
    copy = pickle.loads(pickle.dumps(scheduler))
    copy.optimizer.step()
    copy.step()
    copy.step()
    assert (copy.updates, copy.last_epoch) == (2, 2)
    assert (scheduler.updates, scheduler.last_epoch) == (1, 1)  # the original's hook is not the copy's


def test_bad_clock_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"`clock` must be one of 'calls', 'updates'; got clock='steps'"):
        hf_lr.get_scheduler("linear", _optimizer(), 0, 10, clock="steps")
    with pytest.raises(ValueError, match=r"'reduce_lr_on_plateau' is stepped with a metric.*clock='updates'"):
        hf_lr.get_scheduler("reduce_lr_on_plateau", _optimizer(), clock="updates")


# the default clock's guard -------------------------------------------------------------------------------------


def test_a_correctly_sized_run_is_silent_and_a_mis_sized_one_warns_once_with_the_cause() -> None:
    optimizer = _optimizer()
    scheduler = hf_lr.get_scheduler("cosine", optimizer, 2, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", hf_lr.ScheduleOverrunWarning)
        for _ in range(10):  # the last step() lands on the end: last_epoch == num_training_steps
            optimizer.step()
            scheduler.step()
    assert scheduler.last_epoch == 10
    optimizer = _optimizer()
    scheduler = hf_lr.get_scheduler("cosine", optimizer, 2, 10)
    with pytest.warns(hf_lr.ScheduleOverrunWarning) as caught:
        for _ in range(10):
            optimizer.step()
            scheduler.step()
            scheduler.step()  # twice per update: Accelerate's prepare() on 2 processes
    messages = [str(w.message) for w in caught if issubclass(w.category, hf_lr.ScheduleOverrunWarning)]
    assert len(messages) == 1
    assert "step 11 > num_training_steps=10" in messages[0]
    assert (
        "after 6 optimizer updates" in messages[0]
        and "num_processes" in messages[0]
        and "clock='updates'" in messages[0]
    )


def test_a_run_longer_than_its_schedule_warns_too() -> None:
    optimizer = _optimizer()
    scheduler = hf_lr.get_scheduler("linear", optimizer, 0, 5, clock="updates")
    with pytest.warns(
        hf_lr.ScheduleOverrunWarning, match=r"more optimizer updates \(6\) than the schedule was sized for"
    ):
        for _ in range(6):
            optimizer.step()
            scheduler.step()


def test_names_without_an_end_never_warn() -> None:
    optimizer = _optimizer()
    scheduler = hf_lr.get_scheduler("constant_with_warmup", optimizer, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", hf_lr.ScheduleOverrunWarning)
        for _ in range(50):
            optimizer.step()
            scheduler.step()


# Accelerate's default prepare(), 1 and 2 real processes ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _launch(tmp_path: Path, num_processes: int, accumulation: int) -> dict:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    args = [
        "--out",
        str(tmp_path / "out.json"),
        "--state_dir",
        str(tmp_path / "state"),
        "--accumulation",
        str(accumulation),
    ]
    if num_processes == 1:
        command = [sys.executable, str(SCRIPT), *args]
    else:
        env["ACCELERATE_USE_CPU"] = "1"
        command = [
            sys.executable,
            "-m",
            "accelerate.commands.launch",
            "--multi_gpu",
            "--num_processes",
            str(num_processes),
            "--num_machines",
            "1",
            "--mixed_precision",
            "no",
            "--dynamo_backend",
            "no",
            "--main_process_port",
            str(_free_port()),
            str(SCRIPT),
            *args,
        ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads((tmp_path / "out.json").read_text())


@pytest.mark.parametrize("accumulation", [1, 2])
@pytest.mark.parametrize("num_processes", [1, 2])
def test_accelerate_default_prepare(tmp_path: Path, num_processes: int, accumulation: int) -> None:
    results = _launch(tmp_path, num_processes, accumulation)
    assert results["num_processes"] == num_processes
    curve = _curve("cosine", 10, 2, 10)
    expected = pytest.approx(curve, rel=ULPS, abs=0)
    # clock="updates": exactly the schedule per optimizer update, silent; also across save_state/load_state
    assert results["updates"]["lrs"] == expected
    assert results["updates"]["overrun_warnings"] == []
    assert results["resumed"]["lrs"] == expected
    assert results["resumed"]["overrun_warnings"] == []
    if num_processes == 1:  # the default clock is right on 1 process, and silent
        assert results["calls"]["lrs"] == expected
        assert results["calls"]["overrun_warnings"] == []
    else:  # the measured problem: the default clock runs twice as fast, reaching the end at update 5; it warns once
        assert results["calls"]["lrs"][:6] == [
            pytest.approx(curve[2 * k], rel=ULPS, abs=0) if 2 * k < 10 else pytest.approx(0.0, abs=1e-12)
            for k in range(6)
        ]
        assert len(results["calls"]["overrun_warnings"]) == 1
        assert "num_processes" in results["calls"]["overrun_warnings"][0]
