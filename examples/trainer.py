#!/usr/bin/env python
"""Fine-tune with ``transformers.Trainer`` and any hf_lr schedule: the Trainer version of ``finetune.py``.

Same offline defaults (a tiny BERT built from a config, a word-level tokenizer built in code, generated data), the
same data flags (``--train_file``/``--validation_file``, ``--model_name_or_path``, ...), every ``TrainingArguments``
flag, and ``--lr_scheduler_type`` taking any hf_lr name::

    python examples/trainer.py --output_dir outputs/trainer
    python examples/trainer.py --train_file reviews.csv --lr_scheduler_type noam --warmup_steps 20 \\
        --lr_scheduler_kwargs '{"d_model": 32}' --save_strategy steps --save_steps 50 --report_to tensorboard
    python examples/trainer.py ... --resume_from_checkpoint latest          # the newest checkpoint-K in --output_dir
    ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 examples/trainer.py   # 2 CPU processes

Trainer sizes the schedule in optimizer updates itself (world size, accumulation, epochs: ``HfLrTrainer`` hands that
number to hf_lr). Bad flags, an unknown schedule name included, are one line with the close matches (exit status 2).
The run writes the fine-tuned model and tokenizer (``from_pretrained(OUTPUT_DIR)``; every ``checkpoint-K`` loads the
same way), ``lr_trajectory.csv`` (the lr of each optimizer update, from Trainer's logs; group 0's, as Trainer logs
one), ``metrics.json`` and ``predictions.csv``. A resumed run first drops the TensorBoard points logged after its
checkpoint, which it logs again. One run per output directory (a lock file).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from finetune import register_example_schedules
from helpers import launch, records, task

PROG = "trainer.py"
#: lr_trajectory.csv comes from Trainer's logs, which hold the learning rate of the update they log since 4.51 (the
#: next update's before).
MIN_TRANSFORMERS = "4.51"
DEFAULTS = {
    "output_dir": "outputs/trainer",
    "learning_rate": 2e-3,
    "per_device_train_batch_size": 16,
    "per_device_eval_batch_size": 64,
    "num_train_epochs": 3.0,
    "logging_steps": 1,
    "save_strategy": "no",
    "report_to": "none",
    "seed": 42,
    "disable_tqdm": True,
}


def parse_args(argv: list[str] | None = None) -> tuple[Any, argparse.Namespace]:
    """``HfLrTrainingArguments`` and the data flags; a mistake is one line and exit status 2."""
    import transformers
    from packaging.version import Version
    from transformers import HfArgumentParser

    if Version(transformers.__version__) < Version(MIN_TRANSFORMERS):
        print(
            f"{PROG}: error: needs Transformers >= {MIN_TRANSFORMERS}, found {transformers.__version__} (older "
            "releases log the next update's learning rate, which lr_trajectory.csv would record)",
            file=sys.stderr,
        )
        raise SystemExit(2)

    from hf_lr.integrations.transformers import HfLrTrainingArguments

    class Parser(launch.OneLineErrors, HfArgumentParser):
        pass

    register_example_schedules()  # before parsing: registered names are valid --lr_scheduler_type values
    data_flags = argparse.ArgumentParser(add_help=False)
    task.add_arguments(data_flags, batch_flags=False)
    parser = Parser(HfLrTrainingArguments, prog=PROG, parents=[data_flags])
    parser.set_defaults(**DEFAULTS, use_cpu=not torch.cuda.is_available())
    try:
        training_args, data_args = parser.parse_args_into_dataclasses(args=argv)
    except (ValueError, TypeError) as error:  # TrainingArguments' own checks, an unknown schedule name among them
        parser.error(str(error))
    task.check_arguments(parser, data_args)
    if training_args.resume_from_checkpoint == "latest":
        from transformers.trainer_utils import get_last_checkpoint

        latest = get_last_checkpoint(training_args.output_dir) if Path(training_args.output_dir).is_dir() else None
        if latest is None:
            parser.error(f"--resume_from_checkpoint latest: no checkpoint-K folder in {training_args.output_dir}")
        training_args.resume_from_checkpoint = latest
    return training_args, data_args


def _accuracy(prediction: Any) -> dict[str, float]:
    return {"accuracy": float(np.mean(np.argmax(prediction.predictions, axis=-1) == prediction.label_ids))}


def write_lr_trajectory(trainer: Any, path: Path) -> None:
    """``step,lr_0``: the learning rate Trainer logged for each optimizer update (step 0 is the first update)."""
    rows = [(int(row["step"]) - 1, row["learning_rate"]) for row in trainer.state.log_history if "learning_rate" in row]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "lr_0"])
        writer.writerows((step, repr(float(lr))) for step, lr in rows)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args, data_args = parse_args(argv)
    from transformers import DataCollatorWithPadding, set_seed

    from hf_lr.integrations.transformers import HfLrTrainer

    output_dir = Path(args.output_dir)
    with launch.guard(output_dir, PROG):  # one run per output dir (a lock file); workers stop if the launcher dies
        set_seed(args.seed)
        with args.main_process_first(desc="loading the data"):
            train, evaluation, tokenizer, model = task.load(data_args)
        trainer = HfLrTrainer(
            model=model,
            args=args,
            train_dataset=train,
            eval_dataset=evaluation,
            data_collator=DataCollatorWithPadding(tokenizer),
            processing_class=tokenizer,  # saved with the model: from_pretrained(checkpoint-K) gets the tokenizer too
            compute_metrics=_accuracy,
        )
        with launch.shutdown_on_exit(trainer.accelerator):
            if trainer.is_world_process_zero() and records.tensorboard_available():
                # Trainer logs update k as step k: keep the points up to the checkpoint's step, it logs the rest again.
                resumed_at = (
                    json.loads((Path(args.resume_from_checkpoint) / "trainer_state.json").read_text())["global_step"]
                    if args.resume_from_checkpoint
                    else -1
                )
                records.truncate_tensorboard(
                    Path(os.environ.get("TENSORBOARD_LOGGING_DIR") or output_dir / "runs"), resumed_at + 1
                )
            trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
            prediction = trainer.predict(evaluation, metric_key_prefix="eval")
            trainer.log(prediction.metrics)
            trainer.save_model()  # save_pretrained: the model, its config and the tokenizer in OUTPUT_DIR
            result = {
                "eval_accuracy": prediction.metrics["eval_accuracy"],
                "eval_loss": prediction.metrics["eval_loss"],
                "eval_examples": len(prediction.label_ids),
                "num_processes": args.world_size,
                "optimizer_updates": trainer.state.global_step,
                "lr_scheduler_type": args.lr_scheduler_type,
                "lr_scheduler_kwargs": args.lr_scheduler_kwargs,
                "num_warmup_steps": args.get_warmup_steps(trainer.state.max_steps),
                "max_steps": trainer.state.max_steps,
                "resumed_from": args.resume_from_checkpoint,
            }
            if trainer.is_world_process_zero():
                write_lr_trajectory(trainer, output_dir / records.LR_TRAJECTORY_NAME)
                records.write_predictions(
                    output_dir / records.PREDICTIONS_NAME, prediction.predictions, prediction.label_ids
                )
                (output_dir / records.METRICS_NAME).write_text(json.dumps(result, indent=2) + "\n")
                print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
    launch.exit_now_if_distributed(0)
