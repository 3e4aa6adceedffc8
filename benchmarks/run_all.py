"""Every hf_lr benchmark in one run: step cost, curves, resume construction, compiled optimizer step.

Run from the repository root: ``python benchmarks/run_all.py`` (5-10 minutes with 2 busy CPU cores; ``--quick``
takes about 3). Prints Markdown: the machine, one table per benchmark, and the issue's targets with the measured
ratios. ``--output PATH`` also writes it to a file.
"""

from __future__ import annotations

import argparse
import datetime
import time
import warnings

import compiled
import curve_time
import resume
import step_cost
from _common import machine, markdown_table, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and shorter stepping baselines")
    parser.add_argument("--output", help="also write the Markdown report to this file")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*record_function.*")
    started = time.perf_counter()
    parts = [
        f"Machine: {machine()}.",
        f"Run: `python benchmarks/run_all.py{' --quick' if args.quick else ''}`, "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC.",
    ]
    all_targets = []
    for title, run in (
        ("Step cost", lambda: step_cost.section(args.quick)),
        ("Curves", lambda: curve_time.section(args.quick)),
        ("Resume construction", lambda: resume.section(args.quick)),
        ("Compiled optimizer step", lambda: compiled.section(args.quick)),
    ):
        print(f"[running {title}...]", flush=True)
        text, targets = run()
        parts.append(f"### {title}\n\n{text}")
        all_targets += targets
    parts.append(
        "### Targets\n\n"
        + markdown_table(["target", "measured", "status"], [[t, v, verdict(ok)] for t, ok, v in all_targets])
    )
    parts.append(f"Total benchmark time: {time.perf_counter() - started:.0f} s.")
    report = "\n\n".join(parts) + "\n"
    print(report)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(report)


if __name__ == "__main__":
    main()
