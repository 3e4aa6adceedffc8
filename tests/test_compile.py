"""A ``torch.compile``d optimizer step driven by every registered closed-form schedule never recompiles.

The pattern (PyTorch's "compiled optimizer with an LR scheduler" recipe): give every parameter group a tensor learning
rate, compile a function that calls ``optimizer.step()``, and step the scheduler outside it. The scheduler writes the
tensors in place, so the compiled graph reads the new value each step instead of guarding on a Python float.

One optimizer step is compiled once for the module (inductor; the slow part, ~20 s on a cold cache with 2 CPU cores)
and then driven by each schedule in turn. Recompilations are counted two ways: the compile counter that wraps the
backend (one frame per compilation) and ``torch.compiler.set_stance("fail_on_recompile")``, which raises on any
recompilation. A control test shows that the same counter does see the recompilation a float learning rate causes.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import torch
from registry_helpers import EXAMPLES, GROUP_LRS, example_id, make_scheduler
from torch._dynamo.testing import CompileCounterWithBackend

import hf_lr

STEPS_PER_SCHEDULE = 60


def fail_on_recompile() -> contextlib.AbstractContextManager:
    """``set_stance("fail_on_recompile")`` where torch has it (2.6+); before, the compile counter alone checks."""
    set_stance = getattr(torch.compiler, "set_stance", None)
    return set_stance("fail_on_recompile") if set_stance is not None else contextlib.nullcontext()


@pytest.fixture(scope="module", autouse=True)
def ieee_subnormals_afterwards() -> Iterator[None]:
    """torch 2.4's inductor loads CPU kernels built with -ffast-math, which turns on flush-to-zero for the whole
    process (and hypothesis then refuses to draw floats in later modules): restore IEEE subnormals after this one."""
    yield
    torch.set_flush_denormal(False)


def _varies(example: tuple) -> bool:
    name, w, t, kwargs = example
    curve = hf_lr.lr_curve(name, STEPS_PER_SCHEDULE + 1, num_warmup_steps=w, num_training_steps=t,
                           scheduler_specific_kwargs=kwargs)  # fmt: skip
    return len(set(curve.tolist())) > 1


def _one_example_per_name() -> list[tuple]:
    """Per closed-form name, its first example whose lr changes within the steps driven (else its first)."""
    chosen: dict[str, tuple] = {}
    for example in EXAMPLES:
        if example[0] not in chosen or (not _varies(chosen[example[0]]) and _varies(example)):
            chosen[example[0]] = example
    return list(chosen.values())


ONE_PER_NAME = _one_example_per_name()


def make_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Linear(16, 16), torch.nn.Linear(16, 4))


def param_groups(model: torch.nn.Module, tensor_lr: bool) -> list[dict]:
    return [
        {"params": list(layer.parameters()), "lr": torch.tensor(lr) if tensor_lr else lr}
        for layer, lr in zip(model, GROUP_LRS)
    ]


def set_fixed_grads(model: torch.nn.Module) -> None:
    generator = torch.Generator().manual_seed(1)
    for parameter in model.parameters():
        parameter.grad = torch.randn(parameter.shape, generator=generator)


@dataclass
class CompiledRun:
    counter: CompileCounterWithBackend
    step: Callable[[], None]
    optimizer: torch.optim.Optimizer
    model: torch.nn.Module
    eager_optimizer: torch.optim.Optimizer
    eager_model: torch.nn.Module


@pytest.fixture(scope="module")
def compiled() -> Iterator[CompiledRun]:
    torch.compiler.reset()
    model = make_model()
    eager_model = copy.deepcopy(model)
    set_fixed_grads(model)
    set_fixed_grads(eager_model)
    optimizer = torch.optim.AdamW(param_groups(model, tensor_lr=True), lr=torch.tensor(1e-3))
    eager_optimizer = torch.optim.AdamW(param_groups(eager_model, tensor_lr=True), lr=torch.tensor(1e-3))
    # A scheduler wraps optimizer.step (torch's step-order check) the first time it sees the optimizer; build one
    # before compiling so that the compiled function traces the final optimizer.step.
    make_scheduler("constant", optimizer, None, None, {})
    make_scheduler("constant", eager_optimizer, None, None, {})
    counter = CompileCounterWithBackend("inductor")

    @torch.compile(backend=counter)
    def step() -> None:
        optimizer.step()

    step()  # the one compilation
    eager_optimizer.step()
    assert counter.frame_count == 1
    yield CompiledRun(counter, step, optimizer, model, eager_optimizer, eager_model)
    torch.compiler.reset()


def sync_eager_twin(run: CompiledRun) -> None:
    """Start the eager twin from the compiled run's parameters and Adam state, so that only this schedule's steps
    (not float32 rounding drift accumulated over earlier schedules) separate them."""
    with torch.no_grad():
        for compiled_param, eager_param in zip(run.model.parameters(), run.eager_model.parameters()):
            eager_param.copy_(compiled_param)
            for key, value in run.optimizer.state[compiled_param].items():
                run.eager_optimizer.state[eager_param][key].copy_(value)


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), ONE_PER_NAME, ids=example_id)
def test_no_recompilation_with_tensor_lrs(
    compiled: CompiledRun, name: str, w: int | None, t: int | None, kwargs: dict
) -> None:
    sync_eager_twin(compiled)
    scheduler = make_scheduler(name, compiled.optimizer, w, t, kwargs)
    eager_scheduler = make_scheduler(name, compiled.eager_optimizer, w, t, kwargs)
    frames_before = compiled.counter.frame_count
    graphs_before = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    lrs_seen = set()
    with fail_on_recompile():
        for _ in range(STEPS_PER_SCHEDULE):
            compiled.step()
            compiled.eager_optimizer.step()
            scheduler.step()
            eager_scheduler.step()
            lrs_seen.add(tuple(scheduler.get_last_lr()))
            assert [float(g["lr"]) for g in compiled.optimizer.param_groups] == [
                float(g["lr"]) for g in compiled.eager_optimizer.param_groups
            ]
    assert compiled.counter.frame_count == frames_before, f"{name}: recompiled"
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == graphs_before, f"{name}: new graph"
    if _varies((name, w, t, kwargs)):
        assert len(lrs_seen) > 1, f"{name}: the learning rate never changed"
    else:
        assert name == "constant", f"{name}: no example whose lr changes; the test would prove nothing"
    # The compiled step read the scheduled lr every step: its parameters track an eager optimizer's. (An lr frozen
    # at any one value would move them by ~|lr difference| per step, 1e-5 to 1e-3 here; float32 rounding differences
    # between inductor and eager over 60 steps stay below 1e-5 relative.)
    for compiled_param, eager_param in zip(compiled.model.parameters(), compiled.eager_model.parameters()):
        torch.testing.assert_close(compiled_param, eager_param, rtol=5e-5, atol=2e-6)


def test_control_float_lr_recompiles_and_is_counted() -> None:
    """The counter is not blind: a float lr that the scheduler changes makes dynamo recompile (once, then it makes
    the float dynamic). Uses the cheap eager backend, since recompilation is decided by dynamo's guards."""
    torch.compiler.reset()
    try:
        model = make_model()
        set_fixed_grads(model)
        optimizer = torch.optim.AdamW(param_groups(model, tensor_lr=False), lr=1e-3)
        scheduler = make_scheduler("linear", optimizer, 2, 20, {})
        counter = CompileCounterWithBackend("eager")

        @torch.compile(backend=counter)
        def step() -> None:
            optimizer.step()

        for _ in range(5):
            step()
            scheduler.step()
        assert counter.frame_count >= 2
        if not hasattr(torch.compiler, "set_stance"):
            return  # torch < 2.6: only the counter, checked above
        with pytest.raises(Exception, match="(?i)recompil"), fail_on_recompile():
            torch.compiler.reset()
            step()
            scheduler.step()
            step()
    finally:
        torch.compiler.reset()
