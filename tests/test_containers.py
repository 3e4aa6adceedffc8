"""hf_lr schedulers as children of torch's SequentialLR and ChainedScheduler: exact resumption from any update.

Every case runs uninterrupted, then once per update k: save the optimizer and the container (``torch.save``), load
them (``torch.load(weights_only=True)``) into freshly built objects in either order, and continue. The learning
rates and the parameters must equal the uninterrupted run's exactly.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch.optim.lr_scheduler import ChainedScheduler, ExponentialLR, LinearLR, SequentialLR

import hf_lr

STEPS = 16


def _optimizer(tensor_lr: bool) -> torch.optim.Optimizer:
    generator = torch.Generator().manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(3, generator=generator)) for _ in range(2)]
    second_lr: Any = torch.tensor(0.05, dtype=torch.float64) if tensor_lr else 0.05
    return torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": second_lr}], lr=0.1, momentum=0.9)


def _update(optimizer: torch.optim.Optimizer, step: int) -> None:
    optimizer.zero_grad()
    sum(((p - step % 3) ** 2).sum() for g in optimizer.param_groups for p in g["params"]).backward()
    optimizer.step()


def _sequential_two(o: torch.optim.Optimizer) -> Any:
    first = hf_lr.get_scheduler("linear_lr", o, scheduler_specific_kwargs={"start_factor": 0.1, "total_iters": 4})
    second = hf_lr.get_scheduler("cosine_annealing", o, scheduler_specific_kwargs={"T_max": 8, "eta_min": 1e-3})
    return SequentialLR(o, [first, second], milestones=[4])


def _sequential_warmup_child(o: torch.optim.Optimizer) -> Any:
    """The second child has a warmup (a linear warmup is negative at step -1: it must never be evaluated there)."""
    first = hf_lr.get_scheduler("constant", o)
    second = hf_lr.get_scheduler("cosine", o, 3, 10)
    third = hf_lr.get_scheduler("exponential", o, 2, scheduler_specific_kwargs={"gamma": 0.8})
    return SequentialLR(o, [first, second, third], milestones=[3, 9])


def _sequential_mixed(o: torch.optim.Optimizer) -> Any:
    return SequentialLR(
        o, [LinearLR(o, 0.2, 1.0, total_iters=3), hf_lr.get_scheduler("cosine", o, 2, 10)], milestones=[5]
    )


def _chained_hf_then_torch(o: torch.optim.Optimizer) -> Any:
    return ChainedScheduler(
        [
            hf_lr.get_scheduler("step", o, scheduler_specific_kwargs={"step_size": 3, "gamma": 0.5}),
            ExponentialLR(o, 0.9),
        ]
    )


def _chained_torch_then_hf(o: torch.optim.Optimizer) -> Any:
    return ChainedScheduler([ExponentialLR(o, 0.9), hf_lr.get_scheduler("linear", o, 2, 12)])


CONTAINERS: dict[str, Callable[[torch.optim.Optimizer], Any]] = {
    "sequential": _sequential_two,
    "sequential-warmup-child": _sequential_warmup_child,
    "sequential-torch-then-hf": _sequential_mixed,
    "chained-hf-then-torch": _chained_hf_then_torch,
    "chained-torch-then-hf": _chained_torch_then_hf,
}


def _roundtrip(state: Any) -> Any:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _run(
    make: Callable[[torch.optim.Optimizer], Any],
    tensor_lr: bool,
    save_at: int | None = None,
    optimizer_first: bool = True,
) -> tuple[list[tuple[float, ...]], list[torch.Tensor]]:
    optimizer = _optimizer(tensor_lr)
    scheduler = make(optimizer)
    lrs = []
    for step in range(STEPS):
        if step == save_at:
            checkpoint = _roundtrip(
                {
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "params": [p.detach().clone() for g in optimizer.param_groups for p in g["params"]],
                }
            )
            optimizer = _optimizer(tensor_lr)
            with torch.no_grad():
                for p, saved in zip([p for g in optimizer.param_groups for p in g["params"]], checkpoint["params"]):
                    p.copy_(saved)
            scheduler = make(optimizer)
            if optimizer_first:
                optimizer.load_state_dict(checkpoint["optimizer"])
                scheduler.load_state_dict(checkpoint["scheduler"])
            else:
                scheduler.load_state_dict(checkpoint["scheduler"])
                optimizer.load_state_dict(checkpoint["optimizer"])
        lrs.append(tuple(float(g["lr"]) for g in optimizer.param_groups))
        _update(optimizer, step)
        scheduler.step()
    return lrs, [p.detach().clone() for g in optimizer.param_groups for p in g["params"]]


@pytest.mark.parametrize("tensor_lr", [False, True], ids=["float-lr", "tensor-lr"])
@pytest.mark.parametrize("optimizer_first", [True, False], ids=["optimizer-first", "scheduler-first"])
@pytest.mark.parametrize("container", list(CONTAINERS))
def test_resume_at_every_update_equals_the_uninterrupted_run(
    container: str, optimizer_first: bool, tensor_lr: bool
) -> None:
    make = CONTAINERS[container]
    reference_lrs, reference_params = _run(make, tensor_lr)
    assert len(set(reference_lrs)) >= 6  # the schedule really moves
    for save_at in range(1, STEPS):
        lrs, params = _run(make, tensor_lr, save_at, optimizer_first)
        assert lrs == reference_lrs, f"saved after {save_at} updates"
        assert all(torch.equal(a, b) for a, b in zip(params, reference_params)), f"saved after {save_at} updates"


def test_a_child_that_has_not_started_is_never_evaluated_before_step_zero() -> None:
    calls: list[int] = []

    def spy(step: int) -> float:
        calls.append(step)
        return 1.0 / (step + 1)

    def make(o: torch.optim.Optimizer) -> Any:
        return SequentialLR(o, [hf_lr.get_scheduler("constant", o), hf_lr.ScheduleLR(o, spy)], milestones=[5])

    optimizer = _optimizer(False)
    container = make(optimizer)
    for _ in range(2):
        optimizer.step()
        container.step()
    state = _roundtrip(container.state_dict())
    assert state["_schedulers"][1]["last_epoch"] == -1
    fresh = make(_optimizer(False))
    calls.clear()
    fresh.load_state_dict(state)
    assert all(step >= 0 for step in calls)


def test_the_scheduler_state_alone_leaves_the_optimizer_lrs_untouched() -> None:
    """Loading writes nothing into the optimizer (torch's rule): in a container another child owns the lr."""
    optimizer = _optimizer(False)
    scheduler = hf_lr.get_scheduler("cosine", optimizer, 2, 10)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    fresh_optimizer = _optimizer(False)
    fresh = hf_lr.get_scheduler("cosine", fresh_optimizer, 2, 10)
    fresh_optimizer.param_groups[0]["lr"] = 0.123  # what another child of a container would have set
    fresh.load_state_dict(_roundtrip(scheduler.state_dict()))
    assert fresh_optimizer.param_groups[0]["lr"] == 0.123
    assert fresh.get_last_lr() == scheduler.get_last_lr()
