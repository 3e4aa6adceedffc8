"""Constructing a scheduler that resumes at update 10^9 against constructing one at update 0, for every closed-form name.

Closed form means resuming costs the same as starting: the constructor evaluates the schedule once, at the resume
step. (A chainable torch scheduler would replay 10^9 steps.) Run: ``python benchmarks/resume.py [--quick]``.
"""

from __future__ import annotations

import argparse

from _common import cases, hf_scheduler, markdown_table, min_ratio, print_report, ratio, time_interleaved

RESUME_AT = 10**9
TOTAL = 2 * 10**9  # the resume step lies inside the schedule


def _optimizer():
    import torch

    optimizer = torch.optim.AdamW(
        [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in (0.1, 0.05)], lr=0.1
    )
    for group in optimizer.param_groups:
        group["initial_lr"] = group["lr"]  # what loading the optimizer's checkpoint restores
    return optimizer


def measure(quick: bool) -> tuple[list[list[str]], list[tuple[str, bool, str]]]:
    rows, worst = [], (0.0, "")
    for name, case in cases(TOTAL).items():
        optimizer = _optimizer()
        fresh = hf_scheduler(name, optimizer, case)
        resumed = hf_scheduler(name, optimizer, case, completed_steps=RESUME_AT)
        assert resumed.last_epoch == RESUME_AT and fresh.last_epoch == 0  # the next update uses schedule(10^9)
        timing = time_interleaved(
            {
                "at 0": lambda name=name, case=case: hf_scheduler(name, optimizer, case),
                "at 10^9": lambda name=name, case=case: hf_scheduler(name, optimizer, case, completed_steps=RESUME_AT),
            },
            # Short blocks, many rounds: both sides sample the shared machine's load alike.
            number=10 if quick else 20,
            repeat=31 if quick else 101,
        )
        value = ratio(timing["at 10^9"], timing["at 0"])
        fastest = min_ratio(timing["at 10^9"], timing["at 0"])
        worst = max(worst, (value, name))
        rows.append([name, timing["at 0"].text("us"), timing["at 10^9"].text("us"), f"{value:.2f}x", f"{fastest:.2f}x"])
    targets = [
        (
            "resume construction at 10^9 within 2x of construction at 0",
            worst[0] <= 2.0,
            f"highest {worst[0]:.2f}x ({worst[1]})",
        )
    ]
    return rows, targets


HEADER = ["name", "construct at update 0", "construct at update 10^9", "ratio", "ratio of fastest rounds"]


def section(quick: bool) -> tuple[str, list[tuple[str, bool, str]]]:
    rows, targets = measure(quick)
    text = "`hf_lr.get_scheduler(...)` construction time, 2 parameter groups, median (min–max)\n\n"
    return text + markdown_table(HEADER, rows), targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    text, targets = section(parser.parse_args().quick)
    print_report(text, targets)


if __name__ == "__main__":
    main()
