"""Run by tests/test_clock.py, directly (1 process) or under ``accelerate launch`` (2 CPU processes, gloo).

Trains a tiny model with Accelerate's *default* ``prepare()`` (which steps a prepared scheduler ``num_processes``
times per optimizer update) and records, on the main process, the learning rate used by every real optimizer
update, for three scenarios: ``clock="updates"``; the default clock; and ``clock="updates"`` saved with
``accelerator.save_state`` after half the updates and resumed with ``load_state`` in fresh objects. Writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

import hf_lr


def _train(
    accelerator: Accelerator,
    args: argparse.Namespace,
    clock: str,
    stop_after: int | None = None,
    resume_from: str | None = None,
) -> dict:
    accelerator.free_memory()  # forget the previous scenario's prepared objects (save_state/load_state see only these)
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = hf_lr.get_scheduler(args.name, optimizer, args.warmup, args.total, clock=clock)
    batches = args.total * args.accumulation * accelerator.num_processes
    data = TensorDataset(
        torch.randn(batches * 2, 4, generator=torch.Generator().manual_seed(1)),
        torch.randn(batches * 2, 1, generator=torch.Generator().manual_seed(2)),
    )
    loader = DataLoader(data, batch_size=2)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    skip = 0
    if resume_from is not None:
        accelerator.load_state(resume_from)
        skip = scheduler.scheduler.last_epoch * args.accumulation
    lrs = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", hf_lr.ScheduleOverrunWarning)
        for _batch_index, (x, y) in enumerate(accelerator.skip_first_batches(loader, skip) if skip else loader):
            with accelerator.accumulate(model):
                loss = torch.nn.functional.mse_loss(model(x), y)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    lrs.append(optimizer.param_groups[0]["lr"])
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            if stop_after is not None and len(lrs) == stop_after and accelerator.sync_gradients:
                break
    overruns = [str(w.message) for w in caught if issubclass(w.category, hf_lr.ScheduleOverrunWarning)]
    return {
        "lrs": lrs,
        "overrun_warnings": overruns,
        "updates": scheduler.scheduler.updates,
        "last_epoch": scheduler.scheduler.last_epoch,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="cosine")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--total", type=int, default=10)
    parser.add_argument("--accumulation", type=int, default=1)
    parser.add_argument("--out", required=True)
    parser.add_argument("--state_dir", required=True)
    args = parser.parse_args()
    accelerator = Accelerator(
        gradient_accumulation_steps=args.accumulation
    )  # the default: step_scheduler_with_optimizer=True
    results = {"num_processes": accelerator.num_processes}
    results["updates"] = _train(accelerator, args, "updates")
    results["calls"] = _train(accelerator, args, "calls")
    first = _train(accelerator, args, "updates", stop_after=args.total // 2)
    accelerator.save_state(args.state_dir)
    accelerator.wait_for_everyone()
    second = _train(accelerator, args, "updates", resume_from=args.state_dir)
    accelerator.wait_for_everyone()
    results["resumed"] = {
        "lrs": first["lrs"] + second["lrs"],
        "overrun_warnings": first["overrun_warnings"] + second["overrun_warnings"],
    }
    if accelerator.is_main_process:
        with open(args.out, "w") as f:
            json.dump(results, f)
    accelerator.wait_for_everyone()
    accelerator.free_memory()
    accelerator.end_training()
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    # gloo's background threads can abort the interpreter's teardown ("terminate called without an active
    # exception"): everything is written, so leave without it.
    os._exit(0)


if __name__ == "__main__":
    main()
