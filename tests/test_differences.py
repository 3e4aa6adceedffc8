"""Where hf_lr deliberately differs from Transformers (each difference is listed in docs/guide/differences.md)."""

from __future__ import annotations

import pytest
import torch
import transformers.optimization as tf_opt
from conftest import make_optimizer, trajectory

import hf_lr

# Layer-wise groups follow Transformers' numbers (tests/test_layerwise.py); the one difference there, an optimizer
# built from groups only whose default lr no group has, is tested in test_layerwise.py as well.


def _tensor_lr_run(module: object, total: int, lr_end: float) -> list[float]:
    """An optimizer built with a tensor lr, so that ``defaults["lr"]`` is the group's tensor itself."""
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(2))], lr=torch.tensor(1e-3))
    scheduler = module.get_polynomial_decay_schedule_with_warmup(optimizer, 0, total, lr_end=lr_end)  # type: ignore[attr-defined]
    lrs = []
    for _ in range(total + 3):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        scheduler.step()
    return lrs


def test_polynomial_with_tensor_lr_is_not_captured() -> None:
    """Transformers captures the tensor lr as ``lr_init``, which the scheduler then overwrites in place, so the end
    value drifts upwards; hf_lr reads the lr as a float once."""
    total, lr_end = 50, 1e-7
    ours = _tensor_lr_run(hf_lr, total, lr_end)
    floats = trajectory(
        lambda o: hf_lr.get_polynomial_decay_schedule_with_warmup(o, 0, total, lr_end=lr_end), total + 3, (1e-3,)
    )
    theirs = _tensor_lr_run(tf_opt, total, lr_end)
    assert ours == pytest.approx([row[0] for row in floats], rel=1e-6)  # float32 tensor vs float64 python float
    assert ours[-1] == pytest.approx(lr_end, rel=1e-6)
    assert theirs[-1] > 10 * lr_end  # the drift this fixes (about 45x here)


def test_polynomial_with_warmup_equal_to_total_reaches_lr_end() -> None:
    """Transformers raises ZeroDivisionError at step ``num_training_steps`` when warmup == total."""
    ours = trajectory(lambda o: hf_lr.get_polynomial_decay_schedule_with_warmup(o, 4, 4, lr_end=1e-3), 7)
    assert [row[0] for row in ours[:4]] == [0.0, 0.025, 0.05, 0.075000000000000011]
    assert all(row[0] == pytest.approx(1e-3, rel=1e-12) for row in ours[4:])
    with pytest.raises(ZeroDivisionError):
        trajectory(lambda o: tf_opt.get_polynomial_decay_schedule_with_warmup(o, 4, 4, lr_end=1e-3), 7)


def test_get_last_lr_is_floats_with_tensor_lrs() -> None:
    optimizer = make_optimizer((0.1, 0.2), tensor_lr=True)
    tensors = [group["lr"] for group in optimizer.param_groups]
    scheduler = hf_lr.get_linear_schedule_with_warmup(optimizer, 2, 10)
    optimizer.step()
    scheduler.step()
    assert scheduler.get_last_lr() == [0.05, 0.1]
    assert all(type(lr) is float for lr in scheduler.get_last_lr())
    assert [group["lr"] for group in optimizer.param_groups] == tensors  # same objects, updated in place
    assert [float(t) for t in tensors] == [0.05, 0.1]


def test_scheduler_specific_kwargs_are_checked_for_constant() -> None:
    """Transformers silently drops scheduler_specific_kwargs for `constant`; hf_lr names the unknown argument."""
    optimizer = make_optimizer()
    tf_opt.get_scheduler("constant", optimizer, scheduler_specific_kwargs={"num_cycles": 2})  # silently ignored
    with pytest.raises(TypeError, match="'num_cycles'"):
        hf_lr.get_scheduler("constant", make_optimizer(), scheduler_specific_kwargs={"num_cycles": 2})


def test_warmup_given_to_a_schedule_without_warmup_warns() -> None:
    with pytest.warns(UserWarning, match="num_warmup_steps=10 is ignored"):
        hf_lr.get_scheduler("constant", make_optimizer(), num_warmup_steps=10)


def test_missing_initial_lr_is_explained_not_a_bare_key_error() -> None:
    optimizer = make_optimizer()
    with pytest.raises(KeyError):
        tf_opt.get_linear_schedule_with_warmup(optimizer, 2, 10, last_epoch=4)
    with pytest.raises(ValueError, match=r"param_groups\[0\] has no 'initial_lr'.*base_lrs"):
        hf_lr.get_linear_schedule_with_warmup(optimizer, 2, 10, last_epoch=4)
    assert isinstance(torch.optim.lr_scheduler.LambdaLR, type)


def test_tensor_base_lr_of_cyclic_is_not_captured() -> None:
    """torch's CyclicLR keeps a tensor `base_lr` as the group's lr tensor and overwrites it in place, so that group's
    lower bound drifts up to max_lr; hf_lr reads the tensor once and gives torch's float-argument numbers."""
    kwargs = {"max_lr": 0.02, "step_size_up": 3}

    def run(make: object, base_lr: object) -> list[float]:
        optimizer = make_optimizer((0.1,))
        scheduler = make(optimizer, base_lr)  # type: ignore[operator]
        lrs = []
        for _ in range(12):
            lrs.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            scheduler.step()
        return lrs

    ours = run(
        lambda o, b: hf_lr.get_scheduler("cyclic", o, scheduler_specific_kwargs={"base_lr": b, **kwargs}),
        torch.tensor(1e-3, dtype=torch.float64),
    )
    reference = run(lambda o, b: torch.optim.lr_scheduler.CyclicLR(o, base_lr=b, cycle_momentum=False, **kwargs), 1e-3)
    theirs = run(
        lambda o, b: torch.optim.lr_scheduler.CyclicLR(o, base_lr=b, cycle_momentum=False, **kwargs),
        torch.tensor(1e-3, dtype=torch.float64),
    )
    assert ours == pytest.approx(reference, rel=1e-12)
    assert theirs[6] > 10 * reference[6]  # torch's drift: back at the bottom of the cycle, it stays near max_lr
