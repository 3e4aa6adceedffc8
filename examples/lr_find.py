#!/usr/bin/env python
"""Run the LR range test (``hf_lr.find_lr``) on the fine-tuning example's model and data, with Accelerate.

Runs offline out of the box on the defaults of ``finetune.py`` (the tiny BERT built from a config, the word-level
tokenizer built in code, the generated sentiment data set, AdamW with the same decay / no-decay parameter groups)::

    python examples/lr_find.py                                   # writes outputs/lr_find/lr_find.{csv,json,png}
    accelerate launch examples/lr_find.py --num_steps 200
    ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 examples/lr_find.py   # 2 CPU processes
    python examples/lr_find.py --model_name_or_path bert-base-uncased --dataset_name glue --dataset_config_name sst2 \\
        --start_lr 1e-7 --end_lr 1e-2                             # a hub model and data set (needs the network)

Writes ``OUTPUT_DIR/lr_find.csv`` (``lr,loss,smoothed``: one row per optimizer update of the test),
``OUTPUT_DIR/lr_find.json`` (the suggestion, whether the loss diverged before ``--num_steps``, the number of points and
the settings) and ``OUTPUT_DIR/lr_find.png`` (the loss against the learning rate, the suggestion marked), and prints the
suggestion. The model and optimizer are restored exactly afterwards, as ``find_lr`` does.

Why the defaults are 1e-5 .. 1 over 300 updates, not find_lr's 1e-7 .. 10 over 100
-----------------------------------------------------------------------------------
This model sits on a plateau at chance level (loss ln 2) until it has taken enough updates at a useful learning rate.
With 100 updates over eight decades (12 per decade) the loss only starts falling once the ramp has already reached
about 2e-2, so the steepest descent, and hence the suggestion, lands there; AdamW at 2e-2 does not train this model
(the loss stays at ln 2 for 250 updates). With 300 updates over five decades (60 per decade) the suggestion is about
1.6e-3 for every seed we tried, inside the range where 250 updates of constant-lr AdamW take the loss from 0.69 to
below 0.1 (about 3e-4 .. 2e-3). Pass ``--start_lr``/``--end_lr``/``--num_steps`` for other models.

The Accelerator is built without ``gradient_accumulation_steps``: ``find_lr`` accumulates ``--gradient_accumulation_steps``
batches itself (and divides each loss by that number), and ``accelerator.backward`` would divide again by the
Accelerator's own count.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import Any

import torch

import hf_lr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import launch, task

CSV_NAME = "lr_find.csv"
JSON_NAME = "lr_find.json"
PNG_NAME = "lr_find.png"
DEFAULT_START_LR = 1e-5
DEFAULT_END_LR = 1.0
DEFAULT_NUM_STEPS = 300


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = launch.OneLineErrorParser(prog="lr_find.py", description=__doc__.split("\n")[0])
    parser.add_argument("--output_dir", type=str, default="outputs/lr_find", help="Where lr_find.{csv,json,png} go.")
    parser.add_argument("--start_lr", type=float, default=DEFAULT_START_LR, help="The first learning rate of the ramp.")
    parser.add_argument("--end_lr", type=float, default=DEFAULT_END_LR, help="The last learning rate of the ramp.")
    parser.add_argument("--num_steps", type=int, default=DEFAULT_NUM_STEPS, help="Optimizer updates of the test.")
    parser.add_argument("--mode", choices=("exponential", "linear"), default="exponential", help="The ramp's shape.")
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1, help="Batches per optimizer update.")
    launch.add_arguments(parser)
    task.add_arguments(parser)
    args = parser.parse_args(argv)
    for name in ("start_lr", "end_lr"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            parser.error(f"--{name} must be a finite number > 0, got {value}")
    if args.end_lr <= args.start_lr:
        parser.error(f"--end_lr must be > --start_lr, got --start_lr {args.start_lr} and --end_lr {args.end_lr}")
    if args.num_steps < 2:
        parser.error(f"--num_steps must be >= 2, got {args.num_steps}")
    launch.check_at_least_one(parser, args, "gradient_accumulation_steps")
    task.check_arguments(parser, args)
    output_dir = Path(args.output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        parser.error(f"--output_dir {output_dir} exists and is not a folder")
    return args


def make_accelerator(args: argparse.Namespace):
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration

    # No gradient_accumulation_steps here: find_lr accumulates itself (see the module docstring).
    return Accelerator(
        cpu=launch.use_cpu_for_launch(),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=args.seed),
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def load_data_and_model(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The training split (tokenized, with ``labels``), the tokenizer and a freshly initialised model: finetune.py's."""
    try:
        train, _, tokenizer, model = task.load(args)
    except SystemExit as error:  # a data problem the loader names (a missing column, ...)
        raise SystemExit(f"lr_find.py: error: {error}") from None
    except Exception as error:  # offline hub names, malformed files: one line, not a traceback
        raise SystemExit(f"lr_find.py: error: cannot load the data or model: {_first_line(error)}") from None
    return train, tokenizer, model


def build(args: argparse.Namespace, accelerator: Any) -> tuple[torch.nn.Module, torch.optim.Optimizer, Any]:
    """The prepared model, AdamW optimizer and training data loader, as ``finetune.py`` builds them for ``args.seed``."""
    from accelerate.utils import set_seed
    from torch.utils.data import DataLoader
    from transformers import DataCollatorWithPadding

    set_seed(args.seed)  # the model's initial weights
    with accelerator.main_process_first():
        train, tokenizer, model = load_data_and_model(args)
    loader = DataLoader(
        train, shuffle=True, collate_fn=DataCollatorWithPadding(tokenizer), batch_size=args.per_device_train_batch_size
    )
    groups = task.parameter_groups(model, args.weight_decay)
    # The lr given here does not matter: find_lr sets every group's lr (keeping their ratios) and restores it.
    optimizer = torch.optim.AdamW(groups, lr=args.start_lr)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    return model, optimizer, loader


def range_test(
    args: argparse.Namespace, accelerator: Any, model: Any, optimizer: Any, loader: Any
) -> hf_lr.lr_finder.LRFinderResult:
    try:
        return hf_lr.find_lr(
            model,
            optimizer,
            loader,
            start_lr=args.start_lr,
            end_lr=args.end_lr,
            num_steps=args.num_steps,
            mode=args.mode,
            gradient_accumulation_steps=args.gradient_accumulation_steps,
            accelerator=accelerator,
        )
    except (ValueError, TypeError) as error:  # find_lr's own checks: bad settings, not a crash
        raise SystemExit(f"lr_find.py: error: {_first_line(error)}") from None


def write_outputs(
    result: hf_lr.lr_finder.LRFinderResult, args: argparse.Namespace, num_processes: int
) -> tuple[dict[str, Any], list[Path]]:
    """Write the CSV, the JSON summary and (with matplotlib) the plot; returns the summary and the paths written."""
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    with (output_dir / CSV_NAME).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lr", "loss", "smoothed"])
        writer.writerows(
            (repr(lr), repr(loss), repr(smooth)) for lr, loss, smooth in zip(result.lrs, result.losses, result.smoothed)
        )
    summary = {
        "suggestion": result.suggestion,
        "stopped_early": result.stopped_early,
        "num_points": len(result.lrs),
        "min_smoothed_loss": min(result.smoothed) if result.smoothed else None,
        "start_lr": args.start_lr,
        "end_lr": args.end_lr,
        "num_steps": args.num_steps,
        "mode": args.mode,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "per_device_train_batch_size": args.per_device_train_batch_size,
        "num_processes": num_processes,
        "seed": args.seed,
        "model": args.model_name_or_path or "built-in tiny BERT",
        "dataset": args.train_file or args.dataset_name or "built-in generated data",
    }
    (output_dir / JSON_NAME).write_text(json.dumps(summary, indent=2) + "\n")
    written = [output_dir / CSV_NAME, output_dir / JSON_NAME]
    try:
        import matplotlib
    except ImportError:
        (output_dir / PNG_NAME).unlink(missing_ok=True)  # a plot of an earlier run must not pass for this one's
        print(f"matplotlib is not installed: skipping {output_dir / PNG_NAME} (pip install matplotlib)")
    else:
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, ax = plt.subplots(figsize=(7, 4))
        result.plot(ax=ax, log=args.mode == "exponential")
        if result.smoothed:
            # The raw losses of a divergence reach many times the starting loss and would flatten the useful part.
            top = 1.5 * max(result.smoothed[0], min(result.smoothed))
            if max(result.losses) > top:
                ax.set_ylim(0.0 if min(result.losses) >= 0 else None, top)
        figure.tight_layout()
        figure.savefig(output_dir / PNG_NAME, dpi=100)
        plt.close(figure)
        written.append(output_dir / PNG_NAME)
    return summary, written


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    args = parse_args(argv)
    import datasets
    import transformers

    accelerator = make_accelerator(args)
    summary = None
    with launch.shutdown_on_exit(accelerator):  # finetune.py's orderly shutdown, and no barrier after a failure
        launch.check_world(accelerator.num_processes, args.expected_num_processes)
        if not accelerator.is_local_main_process:
            datasets.utils.logging.set_verbosity_error()
            transformers.utils.logging.set_verbosity_error()
        datasets.disable_progress_bars()
        model, optimizer, loader = build(args, accelerator)
        result = range_test(args, accelerator, model, optimizer, loader)
        # The losses are averaged over processes inside find_lr: every rank holds the same result; one writes it.
        if accelerator.is_main_process:
            summary, written = write_outputs(result, args, accelerator.num_processes)
            points = (
                f"{len(result.lrs)} points from {result.lrs[0]:.3g} to {result.lrs[-1]:.3g}"
                if result.lrs
                else "no points"
            )
            stopped = ", stopped early: the loss diverged" if result.stopped_early else ""
            if result.suggestion is None:
                print(
                    f"no suggestion: too few points before the loss's minimum ({points}{stopped}); "
                    "widen --start_lr/--end_lr or raise --num_steps"
                )
            else:
                print(f"suggested learning rate: {result.suggestion:.3g} ({points}{stopped})")
            print("wrote " + ", ".join(str(path) for path in written))
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
    launch.exit_now_if_distributed(0)
