"""Cost of one ``scheduler.step()`` at 1, 10, 100 and 1000 parameter groups, float and tensor learning rates.

hf_lr's ``cosine`` against Transformers' ``cosine`` and a plain torch ``LambdaLR`` with a module-level cosine function,
each on its own optimizer with identical groups, timed interleaved. Run: ``python benchmarks/step_cost.py [--quick]``.
"""

from __future__ import annotations

import argparse
import warnings
from functools import partial

from _common import Timing, cosine_lambda, markdown_table, min_ratio, print_report, ratio, time_interleaved

GROUPS = (1, 10, 100, 1000)
WARMUP, TOTAL = 100, 10**9  # long enough that no run reaches the end


def _optimizer(num_groups: int, tensor_lr: bool):
    import torch

    groups = [
        {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": torch.tensor(1e-3) if tensor_lr else 1e-3}
        for _ in range(num_groups)
    ]
    optimizer = torch.optim.SGD(groups, lr=1e-3)
    return optimizer


def _schedulers(num_groups: int) -> dict[tuple[str, bool], object]:
    import torch
    from transformers.optimization import get_scheduler as transformers_get_scheduler

    import hf_lr

    schedulers = {}
    for tensor_lr in (False, True):
        schedulers[("hf_lr", tensor_lr)] = hf_lr.get_scheduler(
            "cosine", _optimizer(num_groups, tensor_lr), WARMUP, TOTAL
        )
        schedulers[("transformers", tensor_lr)] = transformers_get_scheduler(
            "cosine", _optimizer(num_groups, tensor_lr), WARMUP, TOTAL
        )
        schedulers[("torch", tensor_lr)] = torch.optim.lr_scheduler.LambdaLR(
            _optimizer(num_groups, tensor_lr),
            partial(cosine_lambda, num_warmup_steps=WARMUP, num_training_steps=TOTAL),
        )
    for scheduler in schedulers.values():
        scheduler.optimizer.step()  # torch warns when a scheduler steps before its optimizer ever did
    return schedulers


def measure(quick: bool) -> dict[tuple[int, bool], dict[str, Timing]]:
    # Many short rounds, all six variants of a group count interleaved in each: the machine is shared and noisy, so
    # every variant (and both sides of every ratio, float and tensor included) must see the same moments.
    repeat = 15 if quick else 41
    results: dict[tuple[int, bool], dict[str, Timing]] = {}
    for num_groups in GROUPS:
        schedulers = _schedulers(num_groups)
        # Blocks of a few ms per variant: long enough that switching variants (cold caches) is not what is timed.
        number = max(10 if quick else 20, (600 if quick else 2_000) // num_groups)
        steps = {key: scheduler.step for key, scheduler in schedulers.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning inside the loop would be timed; none is expected
            time_interleaved(steps, number, 1)  # warm up
            timings = time_interleaved(steps, number, repeat)
        for tensor_lr in (False, True):
            results[(num_groups, tensor_lr)] = {
                impl: timings[(impl, tensor_lr)] for impl in ("hf_lr", "transformers", "torch")
            }
    return dict(sorted(results.items(), key=lambda item: (item[0][1], item[0][0])))


def report(results: dict[tuple[int, bool], dict[str, Timing]]) -> tuple[str, list[tuple[str, bool, str]]]:
    rows = []
    for (num_groups, tensor_lr), timing in results.items():
        rows.append(
            [
                num_groups,
                "tensor" if tensor_lr else "float",
                timing["hf_lr"].text("us"),
                timing["transformers"].text("us"),
                timing["torch"].text("us"),
                f"{ratio(timing['hf_lr'], timing['transformers']):.2f}x",
                f"{ratio(timing['hf_lr'], timing['torch']):.2f}x",
            ]
        )
    table = markdown_table(
        ["groups", "lr", "hf_lr", "Transformers", "torch LambdaLR", "hf_lr / Transformers", "hf_lr / torch"], rows
    )
    r1000 = ratio(results[(1000, False)]["hf_lr"], results[(1000, False)]["transformers"])
    r1 = ratio(results[(1, False)]["hf_lr"], results[(1, False)]["transformers"])
    r_tensor = ratio(results[(1, True)]["hf_lr"], results[(1, False)]["transformers"])
    m1000 = min_ratio(results[(1000, False)]["hf_lr"], results[(1000, False)]["transformers"])
    m1 = min_ratio(results[(1, False)]["hf_lr"], results[(1, False)]["transformers"])
    m_tensor = min_ratio(results[(1, True)]["hf_lr"], results[(1, False)]["transformers"])
    targets = [
        (
            "step cost at 1000 groups (float lr) <= 0.25x Transformers'",
            r1000 <= 0.25,
            f"{r1000:.2f}x (fastest rounds: {m1000:.2f}x)",
        ),
        ("step cost at 1 group (float lr) <= 1.0x Transformers'", r1 <= 1.0, f"{r1:.2f}x (fastest rounds: {m1:.2f}x)"),
        (
            "tensor-lr step cost at 1 group <= 1.2x Transformers' float-lr cost",
            r_tensor <= 1.2,
            f"{r_tensor:.2f}x (fastest rounds: {m_tensor:.2f}x)",
        ),
    ]
    return table, targets


def section(quick: bool) -> tuple[str, list[tuple[str, bool, str]]]:
    table, targets = report(measure(quick))
    return "Per-call time of `scheduler.step()` (cosine), median (min–max over rounds)\n\n" + table, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    text, targets = section(parser.parse_args().quick)
    print_report(text, targets)


if __name__ == "__main__":
    main()
