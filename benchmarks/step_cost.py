"""Cost of one ``scheduler.step()`` at 1, 10, 100 and 1000 parameter groups, float and tensor learning rates.

hf_lr's ``cosine`` against Transformers' ``cosine`` and a plain torch ``LambdaLR`` with a module-level cosine function,
each on its own optimizer with identical groups, timed interleaved. Run: ``python benchmarks/step_cost.py [--quick]``.
"""

from __future__ import annotations

import argparse
import warnings
from functools import partial

from _common import Timing, cosine_lambda, markdown_table, ratio, time_interleaved, verdict

GROUPS = (1, 10, 100, 1000)
WARMUP, TOTAL = 100, 10**9  # long enough that no run reaches the end


def _optimizer(num_groups: int, tensor_lr: bool):  # noqa: ANN202
    import torch

    groups = [
        {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": torch.tensor(1e-3) if tensor_lr else 1e-3}
        for _ in range(num_groups)
    ]
    optimizer = torch.optim.SGD(groups, lr=1e-3)
    return optimizer


def _schedulers(num_groups: int, tensor_lr: bool) -> dict:
    import torch
    from transformers.optimization import get_scheduler as transformers_get_scheduler

    import hf_lr

    schedulers = {
        "hf_lr": hf_lr.get_scheduler("cosine", _optimizer(num_groups, tensor_lr), WARMUP, TOTAL),
        "transformers": transformers_get_scheduler("cosine", _optimizer(num_groups, tensor_lr), WARMUP, TOTAL),
        "torch": torch.optim.lr_scheduler.LambdaLR(
            _optimizer(num_groups, tensor_lr),
            partial(cosine_lambda, num_warmup_steps=WARMUP, num_training_steps=TOTAL),
        ),
    }
    for scheduler in schedulers.values():
        scheduler.optimizer.step()  # torch warns when a scheduler steps before its optimizer ever did
    return schedulers


def measure(quick: bool) -> dict[tuple[int, bool], dict[str, Timing]]:
    # Many short interleaved rounds: the machine is shared and noisy, and the median of many rounds is stable.
    repeat = 11 if quick else 31
    results = {}
    for tensor_lr in (False, True):
        for num_groups in GROUPS:
            schedulers = _schedulers(num_groups, tensor_lr)
            number = max(5, (1_000 if quick else 3_000) // num_groups)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a warning inside the loop would be timed; none is expected
                time_interleaved({k: s.step for k, s in schedulers.items()}, number, 1)  # warm up
                results[(num_groups, tensor_lr)] = time_interleaved(
                    {k: s.step for k, s in schedulers.items()}, number, repeat
                )
    return results


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
    targets = [
        ("step cost at 1000 groups (float lr) <= 0.25x Transformers'", r1000 <= 0.25, f"{r1000:.2f}x"),
        ("step cost at 1 group (float lr) <= 1.0x Transformers'", r1 <= 1.0, f"{r1:.2f}x"),
        ("tensor-lr step cost at 1 group <= 1.2x Transformers' float-lr cost", r_tensor <= 1.2, f"{r_tensor:.2f}x"),
    ]
    return table, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    args = parser.parse_args()
    table, targets = report(measure(args.quick))
    print("Per-call time of scheduler.step(), median (min–max over repeats)\n")
    print(table)
    for text, ok, value in targets:
        print(f"- {text}: {value} {verdict(ok)}")


if __name__ == "__main__":
    main()
