"""Factories with Transformers' names, signatures and defaults, plus Noam and user lambdas.

Each returns a :class:`~hf_lr.ScheduleLR` (a ``torch.optim.lr_scheduler.LambdaLR``), except
:func:`get_reduce_on_plateau_schedule`, which returns torch's ``ReduceLROnPlateau`` as Transformers does. Beyond
Transformers' parameters every factory takes the keyword ``completed_steps`` (the number of updates already done,
instead of torch's ``last_epoch`` and its ``- 1``), and some take opt-in keywords: ``warmup_start_factor`` (warmup from
a multiplier above 0) and, for the cosines, ``hold_end`` (keep the end value past ``num_training_steps``). Their
defaults give Transformers' numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from torch.optim import Optimizer
from torch.optim.lr_scheduler import ReduceLROnPlateau

from hf_lr.adaptive import CheckedReduceLROnPlateau
from hf_lr.scheduler import ScheduleLR
from hf_lr.schedules import (
    Constant,
    ConstantWithWarmup,
    CosineWarmupWithMinLR,
    CosineWithHardRestarts,
    CosineWithMinLR,
    CosineWithWarmup,
    InverseSqrt,
    LambdaSchedule,
    LinearWithWarmup,
    Noam,
    PolynomialDecay,
    WarmupStableDecay,
)

__all__ = [
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_inverse_sqrt_schedule",
    "get_lambda_schedule",
    "get_linear_schedule_with_warmup",
    "get_noam_schedule",
    "get_polynomial_decay_schedule_with_warmup",
    "get_reduce_on_plateau_schedule",
    "get_wsd_schedule",
]


def get_constant_schedule(
    optimizer: Optimizer, last_epoch: int = -1, *, completed_steps: int | None = None, clock: str = "calls"
) -> ScheduleLR:
    """Constant learning rate: the one set in the optimizer.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).

    Example:
        >>> import torch
        >>> from hf_lr import get_constant_schedule
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> get_constant_schedule(optimizer).get_last_lr()
        [0.1]
    """
    return ScheduleLR(optimizer, Constant(), last_epoch, completed_steps=completed_steps, clock=clock)


def get_constant_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int,
    last_epoch: int = -1,
    *,
    completed_steps: int | None = None,
    clock: str = "calls",
    warmup_start_factor: float = 0.0,
) -> ScheduleLR:
    """Linear warmup from 0 to the optimizer's learning rate over `num_warmup_steps`, then constant.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        num_warmup_steps (`int`):
            The number of warmup updates.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            The multiplier at the first update, in [0, 1]: warmup rises linearly from it to 1 at `num_warmup_steps`
            (0: Transformers' warmup from 0).

    Example:
        >>> import torch
        >>> from hf_lr import get_constant_schedule_with_warmup
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> get_constant_schedule_with_warmup(optimizer, num_warmup_steps=4, completed_steps=2).get_last_lr()
        [0.05]
        >>> get_constant_schedule_with_warmup(optimizer, num_warmup_steps=4, warmup_start_factor=0.5).get_last_lr()
        [0.05]
    """
    schedule = ConstantWithWarmup(num_warmup_steps, warmup_start_factor=warmup_start_factor)
    return ScheduleLR(optimizer, schedule, last_epoch, completed_steps=completed_steps, clock=clock)


def get_linear_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    last_epoch: int = -1,
    *,
    completed_steps: int | None = None,
    clock: str = "calls",
    warmup_start_factor: float = 0.0,
) -> ScheduleLR:
    """Linear warmup from 0 to the optimizer's learning rate, then linear decay to 0 at `num_training_steps`.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_training_steps (`int`):
            The total number of updates.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            The multiplier at the first update, in [0, 1]: warmup rises linearly from it to 1 at `num_warmup_steps`
            (0: Transformers' warmup from 0).

    Example:
        >>> import torch
        >>> from hf_lr import get_linear_schedule_with_warmup
        >>> optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
        >>> scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=10, num_training_steps=100)
        >>> scheduler.get_last_lr()
        [0.0]
        >>> scheduler = get_linear_schedule_with_warmup(optimizer, 10, 100, warmup_start_factor=0.1)
        >>> scheduler.get_last_lr()  # warmup from 0.1 times the learning rate
        [0.0001]
    """
    schedule = LinearWithWarmup(num_warmup_steps, num_training_steps, warmup_start_factor=warmup_start_factor)
    return ScheduleLR(optimizer, schedule, last_epoch, completed_steps=completed_steps, clock=clock)


def get_cosine_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    *,
    completed_steps: int | None = None,
    clock: str = "calls",
    hold_end: bool = False,
    warmup_start_factor: float = 0.0,
) -> ScheduleLR:
    """Linear warmup, then a cosine from the optimizer's learning rate down to 0 (with `num_cycles=0.5`).

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_training_steps (`int`):
            The total number of updates.
        num_cycles (`float`, *optional*, defaults to 0.5):
            The number of cosine waves over the decay phase.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).
        hold_end (`bool`, *optional*, defaults to `False`):
            Keep the learning rate of update `num_training_steps` after it instead of continuing the cosine
            (Transformers continues it).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            The multiplier at the first update, in [0, 1]: warmup rises linearly from it to 1 at `num_warmup_steps`
            (0: Transformers' warmup from 0).

    Example:
        >>> import torch
        >>> from hf_lr import get_cosine_schedule_with_warmup
        >>> optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
        >>> scheduler = get_cosine_schedule_with_warmup(optimizer, 0, 100, completed_steps=50)
        >>> round(scheduler.get_last_lr()[0], 6)
        0.0005
        >>> past_the_end = get_cosine_schedule_with_warmup(optimizer, 0, 100, completed_steps=150)
        >>> round(past_the_end.get_last_lr()[0], 6)  # Transformers' cosine rises again after the end
        0.0005
        >>> get_cosine_schedule_with_warmup(optimizer, 0, 100, completed_steps=150, hold_end=True).get_last_lr()
        [0.0]
    """
    schedule = CosineWithWarmup(
        num_warmup_steps, num_training_steps, num_cycles, hold_end=hold_end, warmup_start_factor=warmup_start_factor
    )
    return ScheduleLR(optimizer, schedule, last_epoch, completed_steps=completed_steps, clock=clock)


def get_cosine_with_hard_restarts_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: int = 1,
    last_epoch: int = -1,
    *,
    completed_steps: int | None = None,
    clock: str = "calls",
    warmup_start_factor: float = 0.0,
) -> ScheduleLR:
    """Linear warmup, then `num_cycles` cosine decays to 0 that each restart at the optimizer's learning rate.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_training_steps (`int`):
            The total number of updates.
        num_cycles (`int`, *optional*, defaults to 1):
            The number of cycles (> 0).
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            The multiplier at the first update, in [0, 1]: warmup rises linearly from it to 1 at `num_warmup_steps`
            (0: Transformers' warmup from 0).

    Example:
        >>> import torch
        >>> from hf_lr import get_cosine_with_hard_restarts_schedule_with_warmup
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> get_cosine_with_hard_restarts_schedule_with_warmup(optimizer, 0, 10, num_cycles=2, completed_steps=5).get_last_lr()
        [1.0]
    """
    schedule = CosineWithHardRestarts(
        num_warmup_steps, num_training_steps, num_cycles, warmup_start_factor=warmup_start_factor
    )
    return ScheduleLR(optimizer, schedule, last_epoch, completed_steps=completed_steps, clock=clock)


def get_polynomial_decay_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    lr_end: float = 1e-7,
    power: float = 1.0,
    last_epoch: int = -1,
    *,
    completed_steps: int | None = None,
    clock: str = "calls",
    warmup_start_factor: float = 0.0,
) -> ScheduleLR:
    """Linear warmup, then a polynomial decay from each group's learning rate to the absolute `lr_end`.

    Each group decays from its own learning rate (Transformers uses ``optimizer.defaults["lr"]`` for all groups, and
    captures a tensor learning rate by reference); `lr_end` must be below every group's learning rate.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_training_steps (`int`):
            The total number of updates.
        lr_end (`float`, *optional*, defaults to 1e-7):
            The final learning rate.
        power (`float`, *optional*, defaults to 1.0):
            The power of the decay (> 0).
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            The multiplier at the first update, in [0, 1]: warmup rises linearly from it to 1 at `num_warmup_steps`
            (0: Transformers' warmup from 0).

    Example:
        >>> import torch
        >>> from hf_lr import get_polynomial_decay_schedule_with_warmup
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
        >>> scheduler = get_polynomial_decay_schedule_with_warmup(optimizer, 0, 10, lr_end=1e-5, completed_steps=10)
        >>> scheduler.get_last_lr()
        [1e-05]
    """
    schedule = PolynomialDecay(
        num_warmup_steps, num_training_steps, lr_end=lr_end, power=power, warmup_start_factor=warmup_start_factor
    )
    return ScheduleLR(optimizer, schedule, last_epoch, completed_steps=completed_steps, clock=clock)


def get_inverse_sqrt_schedule(
    optimizer: Optimizer,
    num_warmup_steps: int,
    timescale: int | None = None,
    last_epoch: int = -1,
    *,
    completed_steps: int | None = None,
    clock: str = "calls",
    warmup_start_factor: float = 0.0,
) -> ScheduleLR:
    """Linear warmup, then an inverse square-root decay with time scale `timescale`.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        num_warmup_steps (`int`):
            The number of warmup updates.
        timescale (`int`, *optional*, defaults to `num_warmup_steps`, or 10000 without warmup):
            The time scale of the decay.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            The multiplier at the first update, in [0, 1]: warmup rises linearly from it to 1 at `num_warmup_steps`
            (0: Transformers' warmup from 0).

    Example:
        >>> import torch
        >>> from hf_lr import get_inverse_sqrt_schedule
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> get_inverse_sqrt_schedule(optimizer, num_warmup_steps=100, completed_steps=400).get_last_lr()
        [0.5]
    """
    schedule = InverseSqrt(num_warmup_steps, timescale, warmup_start_factor=warmup_start_factor)
    return ScheduleLR(optimizer, schedule, last_epoch, completed_steps=completed_steps, clock=clock)


def get_reduce_on_plateau_schedule(optimizer: Optimizer, **kwargs: Any) -> ReduceLROnPlateau:
    """torch's ``ReduceLROnPlateau``: constant until a metric stops improving, then reduced (as Transformers).

    The scheduler is a :class:`~hf_lr.adaptive.CheckedReduceLROnPlateau`: torch's, with its arguments and loaded
    states checked.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        kwargs:
            ``ReduceLROnPlateau``'s parameters (``mode``, ``factor``, ``patience``, ...).

    Example:
        >>> import torch
        >>> from hf_lr import get_reduce_on_plateau_schedule
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> scheduler = get_reduce_on_plateau_schedule(optimizer, patience=0, factor=0.5)
        >>> scheduler.step(1.0); scheduler.step(1.0); scheduler.get_last_lr()
        [0.5]
    """
    return CheckedReduceLROnPlateau(optimizer, **kwargs)


def get_cosine_with_min_lr_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    *,
    completed_steps: int | None = None,
    clock: str = "calls",
    hold_end: bool = False,
    warmup_start_factor: float = 0.0,
) -> ScheduleLR:
    """Linear warmup, then a cosine down to a floor: `min_lr` (absolute) or `min_lr_rate` times the learning rate.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_training_steps (`int`):
            The total number of updates.
        num_cycles (`float`, *optional*, defaults to 0.5):
            The number of cosine waves over the decay phase.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        min_lr (`float`, *optional*):
            The absolute floor, reached by every group. Exactly one of `min_lr` and `min_lr_rate` is set.
        min_lr_rate (`float`, *optional*):
            The floor as a ratio of each group's learning rate.
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).
        hold_end (`bool`, *optional*, defaults to `False`):
            Keep the learning rate of update `num_training_steps` (the floor) after it instead of continuing the cosine
            (Transformers continues it).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            The multiplier at the first update, in [0, 1]: warmup rises linearly from it to 1 at `num_warmup_steps`
            (0: Transformers' warmup from 0).

    Example:
        >>> import torch
        >>> from hf_lr import get_cosine_with_min_lr_schedule_with_warmup
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> get_cosine_with_min_lr_schedule_with_warmup(optimizer, 0, 10, min_lr=0.1, completed_steps=10).get_last_lr()
        [0.1]
    """
    schedule = CosineWithMinLR(
        num_warmup_steps,
        num_training_steps,
        num_cycles,
        min_lr=min_lr,
        min_lr_rate=min_lr_rate,
        hold_end=hold_end,
        warmup_start_factor=warmup_start_factor,
    )
    return ScheduleLR(optimizer, schedule, last_epoch, completed_steps=completed_steps, clock=clock)


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    optimizer: Optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    warmup_lr_rate: float | None = None,
    *,
    completed_steps: int | None = None,
    clock: str = "calls",
    hold_end: bool = False,
) -> ScheduleLR:
    """Warmup that starts above 0 (`warmup_lr_rate`, or ``1 / num_warmup_steps``), then a cosine down to a floor.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_training_steps (`int`):
            The total number of updates.
        num_cycles (`float`, *optional*, defaults to 0.5):
            The number of cosine waves over the decay phase.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        min_lr (`float`, *optional*):
            The absolute floor. Exactly one of `min_lr` and `min_lr_rate` is set.
        min_lr_rate (`float`, *optional*):
            The floor as a ratio of each group's learning rate.
        warmup_lr_rate (`float`, *optional*):
            The multiplier of the first warmup update, in [0, 1].
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).
        hold_end (`bool`, *optional*, defaults to `False`):
            Keep the learning rate of the last update, `num_training_steps - 1` (the floor), at every later update
            instead of continuing the cosine (Transformers continues it).

    Example:
        >>> import torch
        >>> from hf_lr import get_cosine_with_min_lr_schedule_with_warmup_lr_rate
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> scheduler = get_cosine_with_min_lr_schedule_with_warmup_lr_rate(optimizer, 4, 10, min_lr_rate=0.1)
        >>> scheduler.get_last_lr()
        [0.25]
    """
    schedule = CosineWarmupWithMinLR(
        num_warmup_steps,
        num_training_steps,
        num_cycles,
        min_lr=min_lr,
        min_lr_rate=min_lr_rate,
        warmup_lr_rate=warmup_lr_rate,
        hold_end=hold_end,
    )
    return ScheduleLR(optimizer, schedule, last_epoch, completed_steps=completed_steps, clock=clock)


def get_wsd_schedule(
    optimizer: Optimizer,
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: float = 0,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    *,
    completed_steps: int | None = None,
    clock: str = "calls",
) -> ScheduleLR:
    """Warmup, stable, decay (WSD): rise to the learning rate, hold it, decay to `min_lr_ratio` times it.

    The stable phase lasts `num_stable_steps`, or what `num_training_steps` leaves after warmup and decay. When both
    are given and disagree, `num_stable_steps` is used with a warning (as in Transformers).

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_decay_steps (`int`):
            The number of decay updates.
        num_training_steps (`int`, *optional*):
            The total number of updates.
        num_stable_steps (`int`, *optional*):
            The number of updates at the peak.
        warmup_type (`str`, *optional*, defaults to `"linear"`):
            ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
        decay_type (`str`, *optional*, defaults to `"cosine"`):
            ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
        min_lr_ratio (`float`, *optional*, defaults to 0):
            The floor as a ratio of the learning rate.
        num_cycles (`float`, *optional*, defaults to 0.5):
            The number of cosine waves of a cosine decay.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).

    Example:
        >>> import torch
        >>> from hf_lr import get_wsd_schedule
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> get_wsd_schedule(optimizer, 10, 10, num_training_steps=100, completed_steps=50).get_last_lr()
        [1.0]
    """
    schedule = WarmupStableDecay.from_lengths(
        num_warmup_steps,
        num_decay_steps,
        num_training_steps=num_training_steps,
        num_stable_steps=num_stable_steps,
        warmup_type=warmup_type,
        decay_type=decay_type,
        min_lr_ratio=min_lr_ratio,
        num_cycles=num_cycles,
    )
    return ScheduleLR(optimizer, schedule, last_epoch, completed_steps=completed_steps, clock=clock)


def get_noam_schedule(
    optimizer: Optimizer,
    d_model: int | None,
    num_warmup_steps: int,
    factor: float = 1.0,
    mode: str = "absolute",
    last_epoch: int = -1,
    *,
    completed_steps: int | None = None,
    clock: str = "calls",
) -> ScheduleLR:
    """The Transformer paper's schedule: ``factor * d_model ** -0.5 * min(s ** -0.5, s * W ** -1.5)``, ``s = step + 1``.

    In the default ``mode="absolute"`` the learning rates are the paper's absolute values whatever the optimizer's
    learning rate; ``mode="peak"`` makes the optimizer's learning rate the peak (at update ``W``);
    ``mode="scale"`` multiplies the optimizer's learning rate by the formula. See :class:`~hf_lr.schedules.Noam`.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        d_model (`int`):
            The model width (may be `None` with ``mode="peak"``).
        num_warmup_steps (`int`):
            The number of warmup updates ``W`` (>= 1).
        factor (`float`, *optional*, defaults to 1.0):
            A constant multiplier.
        mode (`str`, *optional*, defaults to `"absolute"`):
            ``"absolute"``, ``"peak"`` or ``"scale"``.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).

    Example:
        >>> import torch
        >>> from hf_lr import get_noam_schedule
        >>> optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3, betas=(0.9, 0.98))
        >>> scheduler = get_noam_schedule(optimizer, d_model=512, num_warmup_steps=4000, completed_steps=3999)
        >>> f"{scheduler.get_last_lr()[0]:.4e}"
        '6.9877e-04'
    """
    schedule = Noam(num_warmup_steps, d_model=d_model, factor=factor, mode=mode)
    return ScheduleLR(optimizer, schedule, last_epoch, completed_steps=completed_steps, clock=clock)


def get_lambda_schedule(
    optimizer: Optimizer,
    lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
    last_epoch: int = -1,
    *,
    completed_steps: int | None = None,
    clock: str = "calls",
) -> ScheduleLR:
    """A user's own multiplier function of the step (or one per parameter group), like ``LambdaLR``.

    Every value is checked: a negative, NaN or infinite multiplier raises ``ValueError`` at the step that produced it.
    Use module-level functions to keep the scheduler picklable.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        lr_lambda (`Callable[[int], float]` or a list of them):
            The multiplier function(s).
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming (-1 to start).
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            ``"calls"`` (torch's: one step per ``scheduler.step()``) or ``"updates"`` (real optimizer updates).

    Example:
        >>> import torch
        >>> from hf_lr import get_lambda_schedule
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> get_lambda_schedule(optimizer, lambda step: 0.5**step, completed_steps=3).get_last_lr()
        [0.125]
    """
    if isinstance(lr_lambda, (list, tuple)):
        schedules: Any = [LambdaSchedule(fn) for fn in lr_lambda]
    else:
        schedules = LambdaSchedule(cast(Callable[[int], float], lr_lambda))
    return ScheduleLR(optimizer, schedules, last_epoch, completed_steps=completed_steps, clock=clock)
