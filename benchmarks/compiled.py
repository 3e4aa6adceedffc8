"""Recompilations and step time of a ``torch.compile``d AdamW step driven by schedulers.

- hf_lr with tensor learning rates: one compiled step (inductor) driven by every closed-form registered name in turn,
  ``--steps`` updates each; recompilations are counted by a compile counter wrapped around the backend.
- Transformers' cosine with tensor learning rates, on the same compiled step.
- Transformers' cosine with float learning rates: its own compiled step; the first lr change recompiles it.
- Steady-state time per update (compiled ``optimizer.step()`` + ``scheduler.step()``) for each, and eager for
  reference.

Run: ``python benchmarks/compiled.py [--quick]``. The first compilation dominates the run time (~20 s with 2 CPU cores
and a cold inductor cache).
"""

from __future__ import annotations

import argparse
import time
import warnings

from _common import Timing, cases, hf_scheduler, markdown_table, print_report, time_interleaved

TOTAL = 10**5
WIDTH, LAYERS = 256, 8


def _model_and_optimizer(tensor_lr: bool):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(*[torch.nn.Linear(WIDTH, WIDTH) for _ in range(LAYERS)])
    for parameter in model.parameters():
        parameter.grad = torch.randn_like(parameter) * 1e-3
    half = LAYERS // 2
    groups = [
        {"params": list(model[:half].parameters()), "lr": 0.1},
        {"params": list(model[half:].parameters()), "lr": 0.05},  # layer-wise learning rates
    ]
    for group in groups:
        if tensor_lr:
            group["lr"] = torch.tensor(group["lr"])
    return model, torch.optim.AdamW(groups, lr=groups[0]["lr"])


def _compiled_step(optimizer, counter):
    import torch

    @torch.compile(backend=counter)
    def step() -> None:
        optimizer.step()

    return step


def measure(quick: bool, steps: int) -> tuple[list[list[str]], list[list[str]], list[tuple[str, bool, str]]]:
    import torch
    from torch._dynamo.testing import CompileCounterWithBackend
    from transformers.optimization import get_scheduler as transformers_get_scheduler

    torch.compiler.reset()
    table = cases(TOTAL)

    # hf_lr + tensor lr: one compiled step, every name in turn.
    _, optimizer = _model_and_optimizer(tensor_lr=True)
    hf_scheduler("constant", optimizer, table["constant"])  # wraps optimizer.step before it is compiled
    counter = CompileCounterWithBackend("inductor")
    step = _compiled_step(optimizer, counter)
    start = time.perf_counter()
    step()
    first_compile = time.perf_counter() - start
    recompile_rows = []
    for name, case in table.items():
        frames, graphs = counter.frame_count, torch._dynamo.utils.counters["stats"]["unique_graphs"]
        scheduler = hf_scheduler(name, optimizer, case)
        for _ in range(steps):
            step()
            scheduler.step()
        recompiles = counter.frame_count - frames
        new_graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"] - graphs
        recompile_rows.append(["hf_lr", name, "tensor", steps, recompiles, new_graphs])
    hf_cosine = hf_scheduler("cosine", optimizer, table["cosine"])

    # Transformers' cosine + tensor lr, on the same compiled step.
    case = table["cosine"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr_tensor = transformers_get_scheduler("cosine", optimizer, case.num_warmup_steps, case.num_training_steps)
    frames = counter.frame_count
    for _ in range(steps):
        step()
        tr_tensor.step()
    recompile_rows.append(["Transformers", "cosine", "tensor", steps, counter.frame_count - frames, "-"])

    # Transformers' cosine + float lr: its own compiled step; the lr change after the first update recompiles.
    _, float_optimizer = _model_and_optimizer(tensor_lr=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr_float = transformers_get_scheduler("cosine", float_optimizer, case.num_warmup_steps, case.num_training_steps)
    float_counter = CompileCounterWithBackend("inductor")
    float_step = _compiled_step(float_optimizer, float_counter)
    start = time.perf_counter()
    float_step()
    float_first = time.perf_counter() - start
    tr_float.step()
    later = []  # the recompilation happens at the first call that sees a changed float lr
    for _ in range(steps - 1):
        start = time.perf_counter()
        float_step()
        later.append(time.perf_counter() - start)
        tr_float.step()
    float_recompile = max(later)
    recompile_rows.append(["Transformers", "cosine", "float", steps, float_counter.frame_count - 1, "-"])

    # Eager reference (hf_lr, tensor lr).
    _, eager_optimizer = _model_and_optimizer(tensor_lr=True)
    eager_scheduler = hf_scheduler("cosine", eager_optimizer, case)
    eager_optimizer.step()

    def run(optimizer_step, scheduler):
        def one() -> None:
            optimizer_step()
            scheduler.step()

        return one

    timings: dict[str, Timing] = time_interleaved(
        {
            "compiled, hf_lr cosine, tensor lr": run(step, hf_cosine),
            "compiled, Transformers cosine, tensor lr": run(step, tr_tensor),
            "compiled, Transformers cosine, float lr (after its recompile)": run(float_step, tr_float),
            "eager, hf_lr cosine, tensor lr": run(eager_optimizer.step, eager_scheduler),
        },
        number=10 if quick else 20,
        repeat=7 if quick else 15,
    )
    time_rows = [[label, timing.text("ms")] for label, timing in timings.items()]
    time_rows.append(["first call, tensor lr (compilation)", f"{first_compile:.1f} s"])
    time_rows.append(["first call, Transformers float lr (compilation)", f"{float_first:.1f} s"])
    time_rows.append(["slowest later call, Transformers float lr (the recompilation)", f"{float_recompile:.1f} s"])
    hf_recompiles = sum(row[4] for row in recompile_rows if row[0] == "hf_lr")
    targets = [
        ("0 recompiles for every closed-form name with tensor lrs", hf_recompiles == 0, f"{hf_recompiles} recompiles")
    ]
    torch.compiler.reset()
    return recompile_rows, time_rows, targets


def section(quick: bool, steps: int = 50) -> tuple[str, list[tuple[str, bool, str]]]:
    if steps < 50:
        raise SystemExit(f"--steps must be >= 50, got {steps}")
    recompile_rows, time_rows, targets = measure(quick, steps)
    text = (
        f"`torch.compile`d AdamW step ({LAYERS} x Linear({WIDTH}, {WIDTH}), 2 parameter groups), inductor backend\n\n"
        + markdown_table(["scheduler", "name", "lr", "updates", "recompiles", "new graphs"], recompile_rows)
        + "\n\n"
        + markdown_table(["per update (optimizer.step + scheduler.step)", "median (min–max)"], time_rows)
    )
    return text, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer timing repeats")
    parser.add_argument("--steps", type=int, default=50, help="updates per schedule (>= 50)")
    args = parser.parse_args()
    text, targets = section(args.quick, args.steps)
    print_report(text, targets)


if __name__ == "__main__":
    main()
