#!/usr/bin/env python
"""Fine-tune a text classifier with Accelerate and an hf_lr learning-rate schedule.

A lesson in the shape of Accelerate's ``nlp_example.py``: what is worth copying is here; the plumbing (the offline
data and model, launch checks, checkpoint files, CSV and TensorBoard records) is in ``examples/helpers/``.

    accelerate launch examples/finetune.py       # offline: a tiny BERT built from a config, generated data; ~12 s on CPU
    accelerate launch examples/finetune.py --train_file reviews.csv --model_name_or_path bert-base-uncased \\
        --learning_rate 2e-5 --lr_scheduler_type cosine --warmup_ratio 0.06 --checkpointing_steps 500

1. The schedule counts optimizer updates. By default Accelerate steps a prepared scheduler once per process at every
   update, so a schedule sized in updates would end early on several processes. Here the Accelerator is built with
   ``step_scheduler_with_optimizer=False`` and the loop calls ``lr_scheduler.step()`` once per real update: at the last
   micro-batch of an accumulation group (``accelerator.sync_gradients``), unless the optimizer skipped its step (fp16
   overflow). ``--max_train_steps``, ``--num_warmup_steps`` and ``--checkpointing_steps`` count optimizer updates.
2. Resuming (``--resume_from_checkpoint PATH|latest``) starts from a verified checkpoint by one of two routes
   (``--resume_method``). ``initial_lr``: the model from ``from_pretrained(checkpoint)`` and the optimizer's state,
   whose param groups carry ``initial_lr``; then ``hf_lr.get_scheduler(..., completed_steps=K)``, since a closed-form
   schedule needs only the count. ``state``: ``accelerator.load_state(checkpoint)`` restores everything, the scheduler
   from its ``state_dict``. Both are exact: the data order is a function of ``--seed`` and the epoch, and dropout is
   reseeded before every batch.
3. The fine-tuned model and every checkpoint are saved with ``save_pretrained``: ``from_pretrained(OUTPUT_DIR)``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import torch

import hf_lr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import checkpoints, launch, records, task

PROG = "finetune.py"
CUSTOM_SCHEDULE_NAME = "warmup_exponential_decay"


def warmup_exponential_decay(
    step: int, *, num_warmup_steps: int, num_training_steps: int, final_ratio: float = 0.05
) -> float:
    """A custom schedule, registered the way users add theirs: a module-level multiplier of the update count."""
    if step < num_warmup_steps:
        return step / max(1, num_warmup_steps)
    return final_ratio ** min(1.0, (step - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps))


def register_example_schedules() -> None:
    if CUSTOM_SCHEDULE_NAME not in hf_lr.list_schedules():
        hf_lr.register_schedule(CUSTOM_SCHEDULE_NAME, warmup_exponential_decay)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    register_example_schedules()  # registered names are valid --lr_scheduler_type values
    parser = launch.OneLineErrorParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--output_dir", default="outputs/finetune", help="The model, checkpoints and records go here.")
    parser.add_argument("--learning_rate", type=float, default=2e-3)
    parser.add_argument("--classifier_learning_rate", type=float, help="The head's own lr (a third parameter group).")
    parser.add_argument(
        "--lr_scheduler_type",
        default="linear",
        help=f"Any hf_lr name (`python -m hf_lr list`), or {CUSTOM_SCHEDULE_NAME}.",
    )
    parser.add_argument("--num_warmup_steps", type=int, help="Warmup, in optimizer updates.")
    parser.add_argument(
        "--warmup_ratio", type=launch.fraction, help="Warmup as a fraction of the updates (rounded up)."
    )
    parser.add_argument(
        "--scheduler_kwargs",
        type=launch.json_object,
        default={},
        help="The schedule's parameters: '{\"d_model\": 32}'.",
    )
    parser.add_argument("--num_train_epochs", type=int, default=3)
    parser.add_argument("--max_train_steps", type=int, help="Optimizer updates in all; overrides --num_train_epochs.")
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1)
    parser.add_argument("--checkpointing_steps", type=int, help="Save a checkpoint every N optimizer updates.")
    parser.add_argument("--resume_from_checkpoint", help="A checkpoint folder, or 'latest': the newest intact one.")
    parser.add_argument("--resume_method", choices=("initial_lr", "state"), default="initial_lr")
    parser.add_argument(
        "--extend_schedule", choices=("stretch", "rewarm"),
        help="Resume a checkpoint whose run was sized for fewer updates (a larger --max_train_steps now): extend its "
        "schedule from the checkpoint's update ('stretch': same shape; 'rewarm': warm up again over this run's warmup).",
    )  # fmt: skip
    parser.add_argument(
        "--with_tracking", action=argparse.BooleanOptionalAction, default=True, help="TensorBoard logs."
    )
    launch.add_arguments(parser)
    task.add_arguments(parser)
    args = parser.parse_args(argv)
    launch.check_at_least_one(
        parser, args, "num_train_epochs", "max_train_steps", "gradient_accumulation_steps", "checkpointing_steps"
    )
    task.check_arguments(parser, args)
    if args.num_warmup_steps is not None and args.warmup_ratio is not None:
        parser.error("pass --num_warmup_steps or --warmup_ratio, not both")
    try:  # a typo or a bad value fails here, in one line with hf_lr's close matches, before anything is loaded
        entry = hf_lr.get_schedule_entry(args.lr_scheduler_type)
        entry.check_parameters(args.scheduler_kwargs)
        if args.max_train_steps is not None and not entry.metric_driven:  # else known once the data is loaded
            hf_lr.build_schedule(
                entry.name, warmup_steps(args, args.max_train_steps), args.max_train_steps, **args.scheduler_kwargs
            )
    except (ValueError, TypeError) as error:
        parser.error(f"--lr_scheduler_type {args.lr_scheduler_type}: {error}")
    if entry.metric_driven:
        parser.error(f"--lr_scheduler_type {entry.name} steps on a metric, not per update: pick a per-update schedule")
    return args


def warmup_steps(args: argparse.Namespace, max_train_steps: int) -> int:
    """The warmup in optimizer updates: --num_warmup_steps, or --warmup_ratio of the run (rounded up)."""
    return (
        args.num_warmup_steps
        if args.num_warmup_steps is not None
        else math.ceil((args.warmup_ratio or 0) * max_train_steps)
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration

    output_dir = Path(args.output_dir)
    with launch.guard(output_dir, PROG):  # one run per output dir (a lock file); workers stop if the launcher dies
        checkpoint = checkpoints.resolve(args.resume_from_checkpoint, output_dir, PROG)  # verified, or refused
        accelerator = Accelerator(
            cpu=launch.use_cpu_for_launch(),
            gradient_accumulation_steps=args.gradient_accumulation_steps,
            step_scheduler_with_optimizer=False,  # the loop steps the schedule once per optimizer update (1.)
            # The data order is a function of (seed, epoch): a resumed run sees the batches an uninterrupted one does.
            dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=args.seed),
            log_with="tensorboard" if args.with_tracking and records.tensorboard_available() else None,
            project_dir=str(output_dir / "logs"),
        )
        with launch.shutdown_on_exit(accelerator):
            launch.check_world(accelerator.num_processes, args.expected_num_processes)
            return train(args, accelerator, output_dir, checkpoint)


def train(
    args: argparse.Namespace, accelerator: Any, output_dir: Path, checkpoint: checkpoints.Checkpoint | None
) -> dict[str, Any]:
    from accelerate.utils import set_seed
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm
    from transformers import DataCollatorWithPadding

    set_seed(args.seed)  # the model's initial weights
    by_initial_lr = checkpoint is not None and args.resume_method == "initial_lr"
    with accelerator.main_process_first():  # route 1 reloads the model and tokenizer with from_pretrained(checkpoint)
        train_set, eval_set, tokenizer, model = task.load(args, pretrained=checkpoint.path if by_initial_lr else None)
    collator = DataCollatorWithPadding(tokenizer)
    train_loader = DataLoader(train_set, shuffle=True, collate_fn=collator, batch_size=args.per_device_train_batch_size)
    eval_loader = DataLoader(eval_set, collate_fn=collator, batch_size=args.per_device_eval_batch_size)
    optimizer = torch.optim.AdamW(
        task.parameter_groups(model, args.weight_decay, args.classifier_learning_rate), lr=args.learning_rate
    )
    if by_initial_lr:  # route 1: optimizer.load_state_dict; its param groups carry `initial_lr`, the schedule's base
        checkpoints.load_optimizer_state(checkpoint, optimizer, PROG)

    # The schedule, sized in optimizer updates: prepare the loaders first, the per-process shard sets their length.
    train_loader, eval_loader = accelerator.prepare(train_loader, eval_loader)
    updates_per_epoch = math.ceil(len(train_loader) / args.gradient_accumulation_steps)
    max_train_steps = args.max_train_steps or args.num_train_epochs * updates_per_epoch
    completed_steps = checkpoint.completed_steps if checkpoint is not None else 0
    if completed_steps > max_train_steps:
        launch.flag_error(
            PROG, f"the checkpoint has {completed_steps} updates, more than the {max_train_steps} of this run"
        )
    num_warmup_steps = warmup_steps(args, max_train_steps)
    # Extending (--extend_schedule): route 1 builds the checkpoint's schedule and extends it now; route 2 builds this
    # run's and lets load_state_dict rebuild the saved one and extend it (any other change is still refused).
    extend = args.extend_schedule if checkpoint is not None else None
    grow = extend and by_initial_lr and checkpoint.state.get("max_train_steps") != max_train_steps  # type: ignore[union-attr]
    if grow and "Extension" in json.dumps(checkpoint.state.get("schedules")):  # type: ignore[union-attr]
        launch.flag_error(PROG, "this checkpoint's schedule was already extended: resume it with --resume_method state")
    size, warmup = (
        (checkpoint.state["max_train_steps"], checkpoint.state["num_warmup_steps"])
        if grow
        else (max_train_steps, num_warmup_steps)
    )  # type: ignore[union-attr]
    try:  # (a name without warmup or without a total ignores the argument, as in Transformers)
        lr_scheduler = hf_lr.get_scheduler(
            args.lr_scheduler_type,
            optimizer,
            num_warmup_steps=warmup,
            num_training_steps=size,
            scheduler_specific_kwargs=args.scheduler_kwargs,
            completed_steps=completed_steps if by_initial_lr else None,  # route 1: torch's last_epoch=K-1
        )
    except (ValueError, TypeError) as error:  # e.g. a warmup longer than the run
        launch.flag_error(PROG, f"--lr_scheduler_type {args.lr_scheduler_type}: {error}")
    if checkpoint is not None and not (extend and not by_initial_lr):  # route 1 never reads its scheduler state
        checkpoints.check_compatible(
            checkpoint, lr_scheduler, accelerator.num_processes, args.gradient_accumulation_steps
        )
    rewarm = {"num_warmup_steps": num_warmup_steps} if extend == "rewarm" else {}
    if grow:
        lr_scheduler.extend(max_train_steps, extend, **rewarm)
    elif extend and not by_initial_lr:
        lr_scheduler.allow_extension(extend, **rewarm)

    model, optimizer, lr_scheduler = accelerator.prepare(model, optimizer, lr_scheduler)
    if checkpoint is not None and not by_initial_lr:  # route 2: everything, the scheduler through its state_dict
        accelerator.load_state(str(checkpoint.path))
    run_state = {
        "lr_scheduler_type": args.lr_scheduler_type, "max_train_steps": max_train_steps,
        "num_warmup_steps": num_warmup_steps, "num_processes": accelerator.num_processes,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "schedules": checkpoints.schedule_record(lr_scheduler.scheduler),
    }  # fmt: skip
    if checkpoint is not None:
        accelerator.print(
            f"resumed from {checkpoint.path} by route {args.resume_method!r} after {completed_steps} updates"
        )
    recorder = records.RunRecords(
        accelerator, output_dir, completed_steps, len(optimizer.param_groups), bool(accelerator.log_with), "finetune"
    )
    progress = tqdm(total=max_train_steps, initial=completed_steps, disable=not accelerator.is_local_main_process)

    first_epoch, skip_updates = divmod(completed_steps, updates_per_epoch)
    for epoch in range(first_epoch, math.ceil(max_train_steps / updates_per_epoch)):
        if completed_steps == max_train_steps:  # resumed from the final checkpoint
            break
        model.train()
        train_loader.set_epoch(epoch)
        loader, first_batch = train_loader, 0
        if epoch == first_epoch and skip_updates:  # resumed mid-epoch: skip the batches already used
            first_batch = skip_updates * args.gradient_accumulation_steps
            loader = accelerator.skip_first_batches(train_loader, first_batch)
            loader.set_epoch(epoch)
        update_loss, micro_batches = torch.zeros((), device=accelerator.device), 0
        for batch_index, batch in enumerate(loader, start=first_batch):
            torch.manual_seed(checkpoints.dropout_seed(args.seed, epoch, batch_index, accelerator.process_index))
            with accelerator.accumulate(model):
                loss = model(**batch).loss
                update_loss, micro_batches = update_loss + loss.detach(), micro_batches + 1
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
            if not accelerator.sync_gradients:  # inside an accumulation group: no update yet
                continue
            mean_loss = accelerator.reduce(update_loss / micro_batches, reduction="mean").item()
            update_loss, micro_batches = torch.zeros_like(update_loss), 0
            if accelerator.optimizer_step_was_skipped:  # fp16 overflow: no update, so no schedule step
                continue
            recorder.update(completed_steps, [float(group["lr"]) for group in optimizer.param_groups], mean_loss)
            lr_scheduler.step()  # once per optimizer update, whatever the number of processes (1.)
            completed_steps += 1
            progress.update(1)
            if args.checkpointing_steps and completed_steps % args.checkpointing_steps == 0:
                checkpoints.save(
                    accelerator, model, tokenizer, output_dir, {"completed_steps": completed_steps, **run_state}
                )
            if completed_steps == max_train_steps:
                break
    progress.close()

    model.eval()
    logits, labels = [], []
    for batch in eval_loader:
        with torch.no_grad():
            batch_logits = model(**batch).logits.float()
        batch_logits, batch_labels = accelerator.gather_for_metrics(
            (batch_logits, batch["labels"])
        )  # in order, once each
        logits.append(batch_logits.cpu())
        labels.append(batch_labels.cpu())
    checkpoints.save_pretrained(
        accelerator, model, tokenizer, output_dir
    )  # the fine-tuned model: from_pretrained(OUTPUT_DIR)
    metrics = recorder.finish(
        torch.cat(logits), torch.cat(labels), completed_steps, max_train_steps=max_train_steps, num_warmup_steps=num_warmup_steps,
        lr_scheduler_type=args.lr_scheduler_type, resumed_from=str(checkpoint.path) if checkpoint else None,
        resume_method=args.resume_method if checkpoint else None,
    )  # fmt: skip
    accelerator.print(
        f"eval: accuracy {metrics['eval_accuracy']:.4f}, loss {metrics['eval_loss']:.4f} after {completed_steps} updates"
    )
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
    launch.exit_now_if_distributed(0)
