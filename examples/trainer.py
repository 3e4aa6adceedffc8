#!/usr/bin/env python
"""Fine-tune with ``transformers.Trainer`` and any hf_lr schedule: the Trainer version of ``finetune.py``.

Same offline defaults (a tiny BERT built from a config, a word-level tokenizer built in code, the generated sentiment
data set), every ``TrainingArguments`` flag, and ``--lr_scheduler_type`` taking any hf_lr name::

    python examples/trainer.py --output_dir outputs/trainer
    python examples/trainer.py --lr_scheduler_type noam --warmup_steps 20 --lr_scheduler_kwargs '{"d_model": 32}'
    python examples/trainer.py --lr_scheduler_type lambda --lr_scheduler_kwargs '{"lr_lambda": "0.5 ** (step // 30)"}'
    ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 examples/trainer.py   # 2 CPU processes
    accelerate launch --multi_gpu --num_processes 4 examples/trainer.py --model_name_or_path bert-base-uncased \\
        --dataset_name glue --dataset_config_name sst2 --learning_rate 2e-5                        # GPUs

Trainer sizes the schedule in optimizer updates itself (world size, accumulation, epochs: ``HfLrTrainer`` hands that
number to hf_lr). Unknown names and arguments fail while parsing, with the close matches. Like ``finetune.py``, the run
writes ``OUTPUT_DIR/lr_trajectory.csv`` (``step,lr_0,...``: the lr of each optimizer update, from Trainer's logs;
group 0's, as Trainer logs one) and ``OUTPUT_DIR/metrics.json``; ``--resume_from_checkpoint`` is Trainer's.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import finetune as shared  # noqa: E402  (the offline data, tokenizer and model of finetune.py)

from hf_lr.integrations.transformers import HfLrTrainer, HfLrTrainingArguments  # noqa: E402

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


@dataclasses.dataclass
class DataArguments:
    """The data and model: the built-in offline ones by default, or a hub/local data set and model."""

    model_name_or_path: str | None = dataclasses.field(default=None, metadata={"help": "A hub name or local path."})
    dataset_name: str | None = dataclasses.field(default=None, metadata={"help": "A hub name, or a .csv/.json file."})
    dataset_config_name: str | None = None
    text_column: str | None = None
    label_column: str = "label"
    num_train_examples: int = 512
    num_eval_examples: int = 256
    max_length: int = 128


def _datasets_and_model(data_args: DataArguments) -> tuple[Any, Any, Any]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if data_args.dataset_name is None:
        raw = shared.builtin_datasets(data_args.num_train_examples, data_args.num_eval_examples)
        columns: tuple[str, ...] = ("text",)
    else:
        raw = shared.load_user_datasets(data_args)  # type: ignore[arg-type]
        columns = shared.text_columns(data_args, raw["train"].column_names)  # type: ignore[arg-type]
    labels = sorted(set(raw["train"][data_args.label_column if data_args.dataset_name else "label"]))
    if data_args.model_name_or_path is None:
        tokenizer = shared.builtin_tokenizer()
        model = shared.builtin_model(len(tokenizer), len(labels), tokenizer.pad_token_id)
    else:
        tokenizer = AutoTokenizer.from_pretrained(data_args.model_name_or_path)
        model = AutoModelForSequenceClassification.from_pretrained(data_args.model_name_or_path, num_labels=len(labels))
    label_column = data_args.label_column if data_args.dataset_name else "label"
    label_ids = {label: index for index, label in enumerate(labels)}

    def tokenize(batch: dict[str, list[Any]]) -> dict[str, Any]:
        encoded = tokenizer(*(batch[c] for c in columns), truncation=True, max_length=data_args.max_length)
        encoded["labels"] = [label_ids[label] for label in batch[label_column]]
        return encoded

    remove = raw["train"].column_names
    train = raw["train"].map(tokenize, batched=True, remove_columns=remove)
    evaluation_split = "validation" if "validation" in raw else "test"
    evaluation = raw[evaluation_split].map(tokenize, batched=True, remove_columns=remove)
    return tokenizer, model, (train, evaluation)


def _accuracy(prediction: Any) -> dict[str, float]:
    return {"accuracy": float(np.mean(np.argmax(prediction.predictions, axis=-1) == prediction.label_ids))}


def write_lr_trajectory(trainer: HfLrTrainer, path: Path) -> None:
    """``step,lr_0``: the learning rate Trainer logged for each optimizer update (step 0 is the first update)."""
    rows = [(int(row["step"]) - 1, row["learning_rate"]) for row in trainer.state.log_history if "learning_rate" in row]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "lr_0"])
        writer.writerows((step, repr(float(lr))) for step, lr in rows)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from transformers import DataCollatorWithPadding, HfArgumentParser, set_seed

    shared.register_example_schedules()  # before parsing: registered names are valid --lr_scheduler_type values
    parser = HfArgumentParser((DataArguments, HfLrTrainingArguments))
    parser.set_defaults(**DEFAULTS, use_cpu=not torch.cuda.is_available())
    data_args, args = parser.parse_args_into_dataclasses(args=argv)
    set_seed(args.seed)
    tokenizer, model, (train, evaluation) = _datasets_and_model(data_args)
    trainer = HfLrTrainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=evaluation,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=_accuracy,
    )
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    metrics = trainer.evaluate()
    result = {
        "eval_accuracy": metrics["eval_accuracy"],
        "eval_loss": metrics["eval_loss"],
        "num_processes": args.world_size,
        "optimizer_updates": trainer.state.global_step,
        "lr_scheduler_type": args.lr_scheduler_type,
        "lr_scheduler_kwargs": args.lr_scheduler_kwargs,
        "num_warmup_steps": args.get_warmup_steps(trainer.state.max_steps),
        "max_steps": trainer.state.max_steps,
    }
    if trainer.is_world_process_zero():
        output = Path(args.output_dir)
        output.mkdir(parents=True, exist_ok=True)
        write_lr_trajectory(trainer, output / shared.LR_TRAJECTORY_NAME)
        (output / shared.METRICS_NAME).write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result))
    # Orderly shutdown, as in finetune.py: every rank here, trackers closed, the DDP model's references freed, then
    # the process group destroyed.
    trainer.accelerator.wait_for_everyone()
    trainer.accelerator.end_training()
    trainer.accelerator.free_memory()
    shared.destroy_process_group()
    return result


if __name__ == "__main__":
    main()
    shared.exit_now_if_distributed(0)
