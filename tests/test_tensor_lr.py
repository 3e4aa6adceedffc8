"""Tensor learning rates (what ``torch.compile``d optimizers need): updated in place, never captured, same numbers."""

from __future__ import annotations

import io

import pytest
import torch
from registry_helpers import EXAMPLES, GROUP_LRS, example_id, horizon, make_scheduler


def make_optimizer(lrs: list[float] | list[torch.Tensor]) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=1.0)


def as_float32(value: float) -> float:
    return torch.tensor(value, dtype=torch.float32).item()


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), EXAMPLES, ids=example_id)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_tensor_lrs_follow_the_float_run_in_place(
    name: str, w: int | None, t: int | None, kwargs: dict, dtype: torch.dtype
) -> None:
    tensors = [torch.tensor(lr, dtype=dtype) for lr in GROUP_LRS]
    # The float run starts from exactly the values the tensors hold (a float32 tensor rounds 1e-3).
    float_optimizer = make_optimizer([float(t) for t in tensors])
    tensor_optimizer = make_optimizer(tensors)
    float_scheduler = make_scheduler(name, float_optimizer, w, t, kwargs)
    tensor_scheduler = make_scheduler(name, tensor_optimizer, w, t, kwargs)
    for step in range(horizon(w, t, kwargs)):
        expected = float_scheduler.get_last_lr()
        assert tensor_scheduler.get_last_lr() == expected, f"step {step}"
        assert all(type(lr) is float for lr in tensor_scheduler.get_last_lr())
        for index, (group, tensor) in enumerate(zip(tensor_optimizer.param_groups, tensors)):
            assert group["lr"] is tensor, f"step {step}: param_groups[{index}]['lr'] was replaced"
            assert tensor.dtype == dtype and tensor.shape == ()
            want = expected[index] if dtype == torch.float64 else as_float32(expected[index])
            assert tensor.item() == want, f"step {step}, group {index}"
        for optimizer, scheduler in ((float_optimizer, float_scheduler), (tensor_optimizer, tensor_scheduler)):
            optimizer.step()
            scheduler.step()
    assert tensor_scheduler.state_dict() == float_scheduler.state_dict()


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), EXAMPLES, ids=example_id)
def test_tensor_lr_is_read_not_captured(name: str, w: int | None, t: int | None, kwargs: dict) -> None:
    tensors = [torch.tensor(lr, dtype=torch.float64) for lr in GROUP_LRS]
    optimizer = make_optimizer(tensors)
    scheduler = make_scheduler(name, optimizer, w, t, kwargs)
    reference = make_scheduler(name, make_optimizer(list(GROUP_LRS)), w, t, kwargs)
    for group, tensor in zip(optimizer.param_groups, tensors):
        assert group["initial_lr"] is not tensor
        tensor.fill_(123.0)  # someone scribbles on the live lr: the schedule must not start from it
    # A new tensor object put in a group after construction is the one that gets written.
    replacement = torch.tensor(7.0, dtype=torch.float64)
    optimizer.param_groups[1]["lr"] = replacement
    for _ in range(3):
        optimizer.step()
        scheduler.step()
        reference.optimizer.step()
        reference.step()
    assert scheduler.base_lrs == list(GROUP_LRS)
    assert scheduler.get_last_lr() == reference.get_last_lr()
    assert replacement.item() == reference.get_last_lr()[1]
    assert tensors[0].item() == reference.get_last_lr()[0]
    assert tensors[1].item() == 123.0  # no longer in the optimizer, so no longer written


def test_tensor_lr_state_loads_with_weights_only() -> None:
    optimizer = make_optimizer([torch.tensor(lr) for lr in GROUP_LRS])
    scheduler = make_scheduler("cosine", optimizer, 2, 20, {})
    for _ in range(7):
        optimizer.step()
        scheduler.step()
    buffer = io.BytesIO()
    torch.save(scheduler.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    fresh = make_scheduler("cosine", make_optimizer([torch.tensor(lr) for lr in GROUP_LRS]), 2, 20, {})
    fresh.load_state_dict(state)
    assert fresh.last_epoch == 7 and fresh.get_last_lr() == scheduler.get_last_lr()
