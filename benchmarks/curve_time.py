"""``hf_lr.lr_curve`` for 10^5 and 10^6 updates against stepping a ``LambdaLR``, for every closed-form name.

The incumbent is what a Transformers user does to get a curve: build Transformers' scheduler (torch's ``LambdaLR``
with a plain function where Transformers has no such name) and call ``step()`` + ``get_last_lr()`` once per update.
Stepping costs ~3 us per update, so it is timed on bursts of ``--stepping-steps`` updates (3*10^4 by default, 15
rounds interleaved with the curves) and scaled linearly to 10^5 and 10^6; the script also steps one name for the full
10^6 updates once to check that the scaling holds.
Run: ``python benchmarks/curve_time.py [--quick]``.
"""

from __future__ import annotations

import argparse
import warnings

from _common import Case, Timing, cases, halving, incumbent_scheduler, markdown_table, print_report, time_once

SIZES = (10**5, 10**6)
TOTAL = 10**6  # every case is sized for a 10^6-update run
PLAIN_FUNCTION = "lambda"  # a user's plain Python function: called once per update, it cannot be vectorized
# The `lambda` name's two vectorized routes, against the same stepped incumbent (a LambdaLR of the plain function).
VARIANTS = {
    "lambda (vectorized=True)": Case(None, None, {"lr_lambda": halving, "vectorized": True}),
    "lambda (expression)": Case(None, None, {"lr_lambda": "0.5 ** (step // 100000)"}),
}


def _optimizer():
    import torch

    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


def _step_curve(scheduler, num_steps: int) -> list[float]:
    lrs = []
    append, step, last = lrs.append, scheduler.step, scheduler.get_last_lr
    for _ in range(num_steps):
        append(last()[0])
        step()
    return lrs


def _incumbent(name: str, case):
    if name in VARIANTS:
        name, case = PLAIN_FUNCTION, cases(TOTAL)[PLAIN_FUNCTION]
    optimizer = _optimizer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. Transformers' own deprecation notes; not part of the timing
        scheduler, what = incumbent_scheduler(name, optimizer, case)
    optimizer.step()  # torch warns when a scheduler steps before its optimizer ever did
    return scheduler, what


def _lr_curve(name: str, case, size: int):
    import hf_lr

    return hf_lr.lr_curve(
        PLAIN_FUNCTION if name in VARIANTS else name,
        size,
        base_lr=0.1,
        num_warmup_steps=case.num_warmup_steps,
        num_training_steps=case.num_training_steps,
        scheduler_specific_kwargs=case.kwargs,
    )


def measure(quick: bool, stepping_steps: int) -> tuple[list[list[str]], list[tuple[str, bool, str]], str]:
    import numpy as np

    rounds = 7 if quick else 15
    rows = []
    for name, case in [*cases(TOTAL).items(), *VARIANTS.items()]:
        # Interleaved rounds (curve 10^5, curve 10^6, a burst of stepping) so that the shared machine's noisy moments
        # hit both sides of the ratio alike.
        curve: dict[int, list[float]] = {size: [] for size in SIZES}
        per_step: list[float] = []
        # Names evaluated once per update (no vectorized form) take ~1 s per 10^6 curve: fewer rounds for them.
        slow = time_once(lambda: _lr_curve(name, case, 10**6), 1).median > 0.2
        for _ in range(3 if slow else rounds):
            for size in SIZES:
                calls = 1 if slow else 10**6 // size  # 10 calls of the 10^5 curve per round, 1 of the 10^6 curve
                seconds = time_once(
                    lambda size=size, calls=calls: [_lr_curve(name, case, size) for _ in range(calls)], 1
                )
                curve[size].append(seconds.median / calls)
            scheduler, what = _incumbent(name, case)
            per_step.append(time_once(lambda: _step_curve(scheduler, stepping_steps), 1).samples[0] / stepping_steps)
        timing = {size: Timing(values) for size, values in curve.items()}
        stepping = Timing(per_step)
        # The same numbers, not just the same speed: the stepped curve against lr_curve.
        stepped = np.array(_step_curve(_incumbent(name, case)[0], 20_000))
        ours = _lr_curve(name, case, stepped.size)
        max_rel = float(np.max(np.abs(ours - stepped) / np.maximum(np.abs(stepped), 1e-300)))
        speedups = {size: stepping.median * size / timing[size].median for size in SIZES}
        fastest = min(per_step) * 10**6 / min(timing[10**6].samples)
        rows.append(
            [
                name,
                timing[10**5].text("ms"),
                f"{stepping.median * 10**5:.3g} s",
                f"{speedups[10**5]:.0f}x",
                timing[10**6].text("ms"),
                f"{stepping.median * 10**6:.3g} s ({min(per_step) * 10**6:.3g}–{max(per_step) * 10**6:.3g})",
                f"{speedups[10**6]:.0f}x",
                f"{fastest:.0f}x",
                f"{max_rel:.1e}",
                what,
            ]
        )
    check = ""
    if not quick:
        scheduler, _ = _incumbent("linear", cases(TOTAL)["linear"])
        full = time_once(lambda: _step_curve(scheduler, 10**6), 1).median
        scaled = next(r for r in rows if r[0] == "linear")[5]
        check = (
            f"Check of the linear scaling: stepping Transformers' linear for the full 10^6 updates took {full:.3g} s "
            f"(scaled estimate {scaled})."
        )
    speed = {row[0]: float(row[6].rstrip("x")) for row in rows}
    vectorized = {name: value for name, value in speed.items() if name != PLAIN_FUNCTION}
    misses = [name for name, value in vectorized.items() if value < 100]
    lowest = min(vectorized, key=vectorized.get)
    targets = [
        (
            "lr_curve for 10^6 steps >= 100x faster than stepping, every closed-form name (with a vectorized form)",
            not misses,
            f"lowest {vectorized[lowest]:.0f}x ({lowest})"
            + (f"; below 100x: {', '.join(misses)}" if misses else "")
            + f"; `lambda` with a plain Python function (called once per update, not vectorizable): "
            f"{speed[PLAIN_FUNCTION]:.0f}x, with vectorized=True {speed['lambda (vectorized=True)']:.0f}x, "
            f"as an expression {speed['lambda (expression)']:.0f}x",
        )
    ]
    return rows, targets, check


HEADER = [
    "name",
    "lr_curve 10^5",
    "stepping 10^5",
    "speedup",
    "lr_curve 10^6",
    "stepping 10^6",
    "speedup",
    "speedup, fastest rounds",
    "max rel. diff",
    "incumbent stepped",
]


def section(quick: bool, stepping_steps: int | None = None) -> tuple[str, list[tuple[str, bool, str]]]:
    stepping = stepping_steps or (10**4 if quick else 3 * 10**4)
    rows, targets, check = measure(quick, stepping)
    text = (
        "`hf_lr.lr_curve(name, n)` against stepping the incumbent's `LambdaLR` and reading `get_last_lr()` n times, "
        f"median (min–max). Stepping is timed on bursts of {stepping} updates and scaled linearly to 10^5 and 10^6; "
        "`max rel. diff` compares the two curves over the first 20000 updates.\n\n" + markdown_table(HEADER, rows)
    )
    if check:
        text += "\n\n" + check
    return text, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, step the incumbent 2*10^4 updates")
    parser.add_argument("--stepping-steps", type=int, default=None, help="updates per stepping burst")
    args = parser.parse_args()
    text, targets = section(args.quick, args.stepping_steps)
    print_report(text, targets)


if __name__ == "__main__":
    main()
