"""Resume a warmup + cosine-annealing composite at update 10**6: hf_lr in O(1) against torch's SequentialLR.

    python benchmarks/resume_composite.py [--step 1000000] [--repeats 5]

SequentialLR(LinearLR, CosineAnnealingLR) is what plain-torch users build. To resume it at update k they either
replay k steps (time grows with k) or pass last_epoch (wrong learning rate). hf_lr builds the scheduler at update k
directly. Prints the learning rate each route gives against the closed form, and medians (min-max) of the time.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings

import torch
from torch.optim import lr_scheduler as torch_sched

import hf_lr

LR, WARMUP, T_MAX, ETA_MIN = 0.1, 1000, 300_000, 1e-4


def optimizer() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)


def sequential(opt: torch.optim.Optimizer, last_epoch: int = -1) -> torch_sched.SequentialLR:
    ramp = torch_sched.LinearLR(opt, start_factor=0.01, total_iters=WARMUP, last_epoch=last_epoch)
    cosine = torch_sched.CosineAnnealingLR(opt, T_max=T_MAX, eta_min=ETA_MIN, last_epoch=last_epoch)
    return torch_sched.SequentialLR(opt, [ramp, cosine], milestones=[WARMUP], last_epoch=last_epoch)


def timed(fn, repeats: int) -> tuple[float, float, float, float]:
    times, value = [], 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return value, statistics.median(times), min(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=10**6)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    k = args.step
    exact = ETA_MIN + (LR - ETA_MIN) * (1 + math.cos(math.pi * (k - WARMUP) / T_MAX)) / 2

    def ours() -> float:
        schedule = hf_lr.warmup(
            hf_lr.equivalents.CosineAnnealing(T_max=T_MAX, eta_min=ETA_MIN), WARMUP, start_factor=0.01
        )
        return hf_lr.ScheduleLR(optimizer(), schedule, completed_steps=k).get_last_lr()[0]

    def ours_at_zero() -> float:
        schedule = hf_lr.warmup(
            hf_lr.equivalents.CosineAnnealing(T_max=T_MAX, eta_min=ETA_MIN), WARMUP, start_factor=0.01
        )
        return hf_lr.ScheduleLR(optimizer(), schedule).get_last_lr()[0]

    def torch_replay() -> float:
        opt = optimizer()
        scheduler = sequential(opt)
        for _ in range(k):
            scheduler.step()
        return scheduler.get_last_lr()[0]

    def torch_last_epoch() -> float:
        opt = optimizer()
        opt.param_groups[0]["initial_lr"] = LR
        return sequential(opt, last_epoch=k - 1).get_last_lr()[0]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours(), torch_last_epoch()  # warm up imports and caches before timing
        rows = [
            ("hf_lr ScheduleLR(completed_steps=k)", *timed(ours, args.repeats)),
            ("hf_lr ScheduleLR at step 0", *timed(ours_at_zero, args.repeats)),
            ("torch SequentialLR(last_epoch=k-1)", *timed(torch_last_epoch, args.repeats)),
            ("torch SequentialLR replaying k steps", *timed(torch_replay, max(1, args.repeats // 5))),
        ]
    print(f"resume at update k={k:,}; closed-form lr = {exact:.10e}")
    print(f"{'route':40s} {'lr':>18s} {'rel. error':>11s} {'median s':>10s} {'(min-max)':>22s}")
    for name, value, median, low, high in rows:
        error = "-" if "step 0" in name else f"{abs(value - exact) / exact:.1e}"
        print(f"{name:40s} {value:18.10e} {error:>11s} {median:10.2e} ({low:.2e}-{high:.2e})")
    print(f"replay / hf_lr time: {rows[3][2] / rows[0][2]:,.0f}x; hf_lr at k / at 0: {rows[0][2] / rows[1][2]:.2f}x")


if __name__ == "__main__":
    main()
