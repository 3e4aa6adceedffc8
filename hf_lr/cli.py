"""The ``hf-lr`` command (also ``python -m hf_lr``): list schedules, show one in the terminal, plot them to a PNG.

    hf-lr list [--verbose]
    hf-lr show NAME --num-training-steps N [--num-warmup-steps W] [--lr LR] [--kwargs JSON] [--steps 0,10,100]
    hf-lr plot NAME[:JSON] ... -o curve.png [--num-training-steps N] [--num-warmup-steps W] [--lr LR] [--log]

``show`` prints the learning rate at chosen updates, a terminal plot, and, when Transformers is installed and has a
schedule of the same name, the largest difference from Transformers' own learning rates. A user's mistake (unknown
name, bad JSON, bad value) is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from hf_lr.curves import lr_curve
from hf_lr.registry import build_schedule, get_schedule_entry, list_schedules

__all__ = ["main", "terminal_plot"]

PROGRAM = "hf-lr"


class UsageError(Exception):
    """A mistake in the command line: reported as one line, exit status 2."""


def _kwargs(text: str | None, where: str = "--kwargs") -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{where} must be a JSON object, e.g. '{{\"num_cycles\": 2}}': {error.msg} in {text!r}"
        ) from None
    if not isinstance(value, dict):
        raise UsageError(f"{where} must be a JSON object, got {text!r}")
    return value


def terminal_plot(values: np.ndarray, width: int = 64, height: int = 14, log: bool = False) -> str:
    """A curve as text: ``height`` rows of ``width`` columns, the y range labelled on the left.

    Example:
        >>> import numpy as np
        >>> from hf_lr.cli import terminal_plot
        >>> print(terminal_plot(np.linspace(1.0, 0.0, 50), width=10, height=3))
          1.000e+00 |***       |
                    |   ****   |
          0.000e+00 |       ***|
    """
    values = np.asarray(values, dtype=np.float64)
    columns = values[np.linspace(0, values.size - 1, width).round().astype(int)]
    shown = np.log10(np.maximum(columns, 1e-300)) if log else columns
    low, high = float(shown.min()), float(shown.max())
    span = high - low or 1.0
    rows = np.clip(((high - shown) / span * (height - 1)).round().astype(int), 0, height - 1)
    grid = [[" "] * width for _ in range(height)]
    for column, row in enumerate(rows):
        grid[row][column] = "*"
    top, bottom = float(columns.max()), float(columns.min())
    lines = []
    for index, row in enumerate(grid):
        label = f"{top:11.3e}" if index == 0 else (f"{bottom:11.3e}" if index == height - 1 else " " * 11)
        lines.append(f"{label} |{''.join(row)}|")
    return "\n".join(lines)


def _transformers_difference(
    name: str, lr: float, warmup: int | None, total: int | None, kwargs: dict[str, Any], ours: np.ndarray
) -> str:
    try:
        import torch
        import transformers.optimization as reference
        from transformers import SchedulerType
    except ImportError:
        return "Transformers is not installed: no comparison."
    if name not in {member.value for member in SchedulerType} or name in ("reduce_lr_on_plateau", "greedy"):
        return f"Transformers has no closed-form schedule named {name!r}: no comparison."
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler = reference.get_scheduler(name, optimizer, warmup, total, dict(kwargs))
            theirs = []
            for _ in range(ours.size):
                theirs.append(float(optimizer.param_groups[0]["lr"]))
                optimizer.step()
                scheduler.step()
    except Exception as error:
        return f"Transformers' {name!r} failed with these arguments: {type(error).__name__}: {error}"
    difference = np.abs(np.asarray(theirs) - ours)
    worst = int(np.argmax(difference))
    return (
        f"max |hf_lr - transformers| over {ours.size} updates: {difference[worst]:.3e} "
        f"(at update {worst}; {'identical' if difference[worst] == 0 else 'differs'})"
    )


def _default_steps(total: int, warmup: int | None, num_steps: int) -> list[int]:
    w = warmup or 0
    candidates = {0, w // 2, w, total // 4, total // 2, (3 * total) // 4, total - 1, total}
    return sorted(step for step in candidates if 0 <= step < num_steps)


def _show(args: argparse.Namespace) -> int:
    kwargs = _kwargs(args.kwargs)
    entry = get_schedule_entry(args.name)
    if not entry.closed_form:
        raise UsageError(f"{args.name!r} is driven by a metric (call step(metric)); it has no curve to show")
    total = args.num_training_steps
    num_steps = (
        (total + 1)
        if total
        else max(build_schedule(args.name, args.num_warmup_steps, total, **kwargs).boundaries() + (999,)) + 1
    )
    curve = lr_curve(
        args.name,
        num_steps,
        base_lr=args.lr,
        num_warmup_steps=args.num_warmup_steps,
        num_training_steps=total,
        scheduler_specific_kwargs=kwargs,
    )
    if args.steps:
        try:
            steps = [int(s) for s in args.steps.split(",")]
        except ValueError:
            raise UsageError(f"--steps must be comma-separated integers, got {args.steps!r}") from None
        out_of_range = [s for s in steps if not 0 <= s < num_steps]
        if out_of_range:
            raise UsageError(f"--steps must lie in [0, {num_steps - 1}], got {out_of_range}")
    else:
        steps = _default_steps(total or num_steps - 1, args.num_warmup_steps, num_steps)
    described = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    print(
        f"{args.name}({described})  lr={args.lr:g}  num_warmup_steps={args.num_warmup_steps}  num_training_steps={total}"
    )
    print(f"{'update':>10}  {'learning rate':>14}")
    for step in steps:
        print(f"{step:>10}  {curve[step]:>14.6e}")
    if not args.no_plot:
        print()
        print(terminal_plot(curve, width=args.width, height=args.height, log=args.log))
        print(f"{'':11}  0{'':{max(args.width - len(str(num_steps - 1)) - 1, 1)}}{num_steps - 1}  (optimizer update)")
    if not args.no_compare:
        print()
        print(_transformers_difference(args.name, args.lr, args.num_warmup_steps, total, kwargs, curve))
    return 0


def _plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hf_lr.plotting import plot

    shared = _kwargs(args.kwargs)
    items = []
    for spec in args.names:
        name, _, text = spec.partition(":")
        get_schedule_entry(name)  # unknown names fail here, with the close matches
        items.append((name, {**shared, **_kwargs(text, where=f"the parameters of {name}")}))
    figure, ax = plt.subplots(figsize=(9, 4.8))
    plot(
        *items, num_steps=args.num_steps, num_training_steps=args.num_training_steps,
        num_warmup_steps=args.num_warmup_steps, base_lr=args.lr, ax=ax, log=args.log, title=args.title,
    )  # fmt: skip
    figure.tight_layout()
    try:
        figure.savefig(args.output, dpi=args.dpi)
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot write {args.output!r}: {error}") from None
    plt.close(figure)
    print(f"wrote {args.output}")
    return 0


def _list(args: argparse.Namespace) -> int:
    names = list_schedules()
    width = max(len(name) for name in names)
    for name in names:
        entry = get_schedule_entry(name)
        kind = "" if entry.closed_form else "  [metric-driven]"
        print(f"{name:<{width}}  {entry.description}{kind}")
        if args.verbose:
            print(f"{'':<{width}}    parameters: {entry.signature() or '(none)'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Learning-rate schedules: list, show, plot.")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="the registered names with a one-line description")
    listing.add_argument("-v", "--verbose", action="store_true", help="also each name's parameters")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--num-training-steps", type=int, help="the total number of optimizer updates")
        sub.add_argument("--num-warmup-steps", type=int, help="the number of warmup updates")
        sub.add_argument("--lr", type=float, default=1.0, help="the optimizer's learning rate (default 1: multipliers)")
        sub.add_argument("--kwargs", help="the schedule's own parameters as JSON, e.g. '{\"num_cycles\": 2}'")
        sub.add_argument("--log", action="store_true", help="a logarithmic learning-rate axis")

    show = commands.add_parser(
        "show", help="the learning rate at chosen updates, a terminal plot, Transformers' difference"
    )
    show.add_argument("name")
    common(show)
    show.add_argument("--steps", help="comma-separated updates to print (default: phase boundaries and quarters)")
    show.add_argument("--width", type=int, default=64)
    show.add_argument("--height", type=int, default=14)
    show.add_argument("--no-plot", action="store_true", help="no terminal plot")
    show.add_argument("--no-compare", action="store_true", help="no comparison with Transformers")

    plotting = commands.add_parser("plot", help="draw schedules to an image file (needs matplotlib)")
    plotting.add_argument(
        "names", nargs="+", metavar="NAME[:JSON]", help="schedule names, each optionally with its parameters"
    )
    common(plotting)
    plotting.add_argument("-o", "--output", required=True, help="the image file (PNG, SVG, PDF)")
    plotting.add_argument("--num-steps", type=int, help="updates drawn (default: num_training_steps plus a tenth)")
    plotting.add_argument("--title")
    plotting.add_argument("--dpi", type=int, default=120)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    for name in ("num_training_steps", "num_warmup_steps", "num_steps", "width", "height"):
        value = getattr(args, name, None)
        least = 0 if name == "num_warmup_steps" else 1
        if value is not None and value < least:
            parser.exit(2, f"{PROGRAM}: error: --{name.replace('_', '-')} must be >= {least}, got {value}\n")
    lr = getattr(args, "lr", 1.0)
    if not (math.isfinite(lr) and lr > 0):
        parser.exit(2, f"{PROGRAM}: error: --lr must be a finite number > 0, got {lr}\n")
    try:
        return {"list": _list, "show": _show, "plot": _plot}[args.command](args)
    except (UsageError, ValueError, TypeError, ImportError) as error:
        parser.exit(2, f"{PROGRAM}: error: {error}\n")
    except BrokenPipeError:  # `hf-lr list | head`: the reader left; not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python's exit flush from failing again
        return 0
    return 0  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
