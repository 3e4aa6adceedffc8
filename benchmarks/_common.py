"""Timing, statistics, case tables and the machine description shared by the benchmark scripts."""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

# Run from a checkout without installing: the repository root goes first on the path.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class Timing:
    """Seconds per call, one value per repeat."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def text(self, unit: str = "auto") -> str:
        scale, unit = _unit(self.median, unit)
        lo, hi = min(self.samples) * scale, max(self.samples) * scale
        return f"{self.median * scale:.3g} {unit} ({lo:.3g}–{hi:.3g})"


def _unit(seconds: float, unit: str) -> tuple[float, str]:
    if unit == "auto":
        unit = "s" if seconds >= 1 else "ms" if seconds >= 1e-3 else "us" if seconds >= 1e-6 else "ns"
    return {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[unit], unit


def ratio(numerator: Timing, denominator: Timing) -> float:
    return numerator.median / denominator.median


def min_ratio(numerator: Timing, denominator: Timing) -> float:
    """The ratio of the fastest rounds: what each costs when the shared machine leaves it alone."""
    return min(numerator.samples) / min(denominator.samples)


def time_interleaved(functions: dict[str, Callable[[], Any]], number: int, repeat: int) -> dict[str, Timing]:
    """Seconds per call of each function: ``repeat`` rounds, each timing ``number`` calls of every function in turn
    (interleaved so that a noisy moment of the machine hits all of them alike). GC is off while timing."""
    samples: dict[str, list[float]] = {key: [] for key in functions}
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for key, function in functions.items():
                start = time.perf_counter()
                for _ in range(number):
                    function()
                samples[key].append((time.perf_counter() - start) / number)
    finally:
        if enabled:
            gc.enable()
    return {key: Timing(values) for key, values in samples.items()}


def time_once(function: Callable[[], Any], repeat: int) -> Timing:
    """Seconds per call of a function that does a lot of work per call (a whole curve)."""
    samples = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return Timing(samples)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy
    import torch
    import transformers

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}, {cores} cores available, torch threads {torch.get_num_threads()}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, torch {torch.__version__}, transformers "
        f"{transformers.__version__}, numpy {numpy.__version__}"
    )


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def print_report(text: str, targets: list[tuple[str, bool, str]]) -> None:
    """A section's table, then one line per target with its verdict (what each script prints when run alone)."""
    print(text)
    for line, ok, value in targets:
        print(f"- {line}: {value} {verdict(ok)}")


# ---------------------------------------------------------------------------------------------------------------------
# Schedules: one parameter set per closed-form name for a run of `total` updates, and the incumbent that steps the
# same curve with a LambdaLR (Transformers' own scheduler where Transformers has the name).


def halving(step: int) -> float:
    """The `lambda` name's multiplier in the benchmarks (a user's plain Python function)."""
    return 0.5 ** (step // 100_000)


def noam_lambda(step: int, *, num_warmup_steps: int, d_model: int) -> float:
    """Noam as a plain LambdaLR function (the usual port; Transformers has no `noam`)."""
    s = step + 1
    return d_model**-0.5 * min(s**-0.5, s * num_warmup_steps**-1.5)


def cosine_lambda(step: int, *, num_warmup_steps: int, num_training_steps: int) -> float:
    """Cosine with warmup written as a plain function, the way a torch user writes a LambdaLR."""
    if step < num_warmup_steps:
        return step / max(1, num_warmup_steps)
    progress = (step - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


@dataclass(frozen=True)
class Case:
    num_warmup_steps: int | None
    num_training_steps: int | None
    kwargs: dict[str, Any]


def cases(total: int) -> dict[str, Case]:
    """Every closed-form registered name, sized for a run of ``total`` updates (``total >= 10_000``)."""
    import hf_lr

    warmup = total // 100
    table = {
        "constant": Case(None, None, {}),
        "constant_with_warmup": Case(warmup, None, {}),
        "linear": Case(warmup, total, {}),
        "cosine": Case(warmup, total, {}),
        "cosine_with_restarts": Case(warmup, total, {"num_cycles": 3}),
        "polynomial": Case(warmup, total, {"lr_end": 1e-7, "power": 2.0}),
        "inverse_sqrt": Case(warmup, None, {}),
        "cosine_with_min_lr": Case(warmup, total, {"min_lr_rate": 0.1}),
        "cosine_warmup_with_min_lr": Case(warmup, total, {"min_lr_rate": 0.1}),
        "warmup_stable_decay": Case(warmup, total, {"num_decay_steps": total // 10, "min_lr_ratio": 0.01}),
        "noam": Case(warmup, None, {"d_model": 512, "mode": "scale"}),  # lr * noam(step), like the LambdaLR port
        "lambda": Case(None, None, {"lr_lambda": halving}),
    }
    names = [name for name in hf_lr.list_schedules() if hf_lr.get_schedule_entry(name).closed_form]
    for name in names:
        if name not in table:
            table[name] = _scaled_example(name, total)
    return {name: table[name] for name in names}


def _scaled_example(name: str, total: int) -> Case:
    """A name without a hand-written case above: the first example of the test suite's shared table
    (``tests/registry_cases.py``), with every length in it scaled so that the longest is ``total``."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from registry_cases import CASES, STEP_LIKE
    finally:
        sys.path.remove(str(ROOT / "tests"))
    if name not in CASES:
        raise SystemExit(f"no benchmark case for {name!r}: add one to benchmarks/_common.py or tests/registry_cases.py")
    w, t, kwargs = CASES[name].examples[0]
    lengths = [w or 0, t or 0]
    lengths += [v for k, v in kwargs.items() if k in STEP_LIKE and isinstance(v, int)]
    lengths += list(kwargs.get("milestones", []))
    factor = max(1, total // max(1, *lengths))
    scaled = {
        k: v * factor if k in STEP_LIKE and isinstance(v, int) else [m * factor for m in v] if k == "milestones" else v
        for k, v in kwargs.items()
    }
    return Case(None if w is None else w * factor, None if t is None else t * factor, scaled)


def hf_scheduler(name: str, optimizer: Any, case: Case, **resume: Any) -> Any:
    import hf_lr

    return hf_lr.get_scheduler(name, optimizer, case.num_warmup_steps, case.num_training_steps, case.kwargs, **resume)


def incumbent_scheduler(name: str, optimizer: Any, case: Case) -> tuple[Any, str]:
    """The LambdaLR a user of the incumbents would step for ``name``, and what it is."""
    from torch.optim.lr_scheduler import LambdaLR
    from transformers import SchedulerType
    from transformers.optimization import get_scheduler

    if name in {member.value for member in SchedulerType}:
        scheduler = get_scheduler(name, optimizer, case.num_warmup_steps, case.num_training_steps, dict(case.kwargs))
        return scheduler, "Transformers"
    if name == "noam":
        function = partial(noam_lambda, num_warmup_steps=case.num_warmup_steps, d_model=case.kwargs["d_model"])
        return LambdaLR(optimizer, function), "torch LambdaLR + plain function"
    if name == "lambda":
        return LambdaLR(optimizer, case.kwargs["lr_lambda"]), "torch LambdaLR + the same function"
    # Names neither Transformers nor a plain function here has: a LambdaLR stepping hf_lr's own scalar formula.
    import hf_lr

    schedule = hf_lr.build_schedule(name, case.num_warmup_steps, case.num_training_steps, **case.kwargs)
    base_lr = float(optimizer.param_groups[0]["lr"])
    return LambdaLR(optimizer, schedule.bind(base_lr)), "torch LambdaLR + hf_lr's scalar formula"
