"""hf_lr: learning-rate schedules for Transformers, Accelerate and PyTorch users.

A drop-in for ``transformers.optimization``'s schedules (same names, signatures and numbers) where every schedule is a
closed-form, picklable function of the optimizer-update count, driven by a ``torch.optim.lr_scheduler.LambdaLR``
subclass that resumes exactly and records its configuration. See README.md.

The top level holds what most code needs: Transformers' factories and ``get_scheduler``, hf_lr's registry,
:class:`ScheduleLR`, the composition functions and the tools. The schedule classes live in their modules:
:mod:`hf_lr.schedules` (Transformers' schedules, Noam, lambdas), :mod:`hf_lr.equivalents` (torch, timm, fairseq and
DeepSpeed), :mod:`hf_lr.compose` (the classes behind ``warmup``/``join``/``cycles``/``with_floor``),
:mod:`hf_lr.adaptive` (metric-driven schedulers) and :mod:`hf_lr.expression`.

Example:
    >>> import torch
    >>> import hf_lr
    >>> optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> scheduler = hf_lr.get_scheduler("linear", optimizer, num_warmup_steps=10, num_training_steps=100)
    >>> isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
    True
"""

import importlib
import warnings
from typing import Any

from hf_lr.adaptive import GreedyLR, get_greedy_schedule
from hf_lr.compose import cycles, join, warmup, with_floor
from hf_lr.curves import lr_curve
from hf_lr.factories import (
    get_constant_schedule,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_cosine_with_hard_restarts_schedule_with_warmup,
    get_cosine_with_min_lr_schedule_with_warmup,
    get_cosine_with_min_lr_schedule_with_warmup_lr_rate,
    get_inverse_sqrt_schedule,
    get_lambda_schedule,
    get_linear_schedule_with_warmup,
    get_noam_schedule,
    get_polynomial_decay_schedule_with_warmup,
    get_reduce_on_plateau_schedule,
    get_wsd_schedule,
)
from hf_lr.lr_finder import find_lr
from hf_lr.names import BUILTIN_ENTRIES as _BUILTIN_ENTRIES  # noqa: F401  (registers the built-in names)
from hf_lr.param_groups import layerwise_lr_decay
from hf_lr.plotting import plot
from hf_lr.registry import build_schedule, get_schedule_entry, get_scheduler, list_schedules, register_schedule
from hf_lr.scheduler import ScheduleLR, ScheduleMismatchError, ScheduleOverrunWarning
from hf_lr.schedules import Schedule

__version__ = "0.1.0"

__all__ = [
    # Transformers' schedule API (transformers.optimization): same names, signatures and numbers
    "GreedyLR",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_greedy_schedule",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_reduce_on_plateau_schedule",
    "get_scheduler",
    "get_wsd_schedule",
    # hf_lr's factories and registry
    "build_schedule",
    "get_lambda_schedule",
    "get_noam_schedule",
    "get_schedule_entry",
    "list_schedules",
    "register_schedule",
    # the scheduler and the base class of schedules
    "Schedule",
    "ScheduleLR",
    "ScheduleMismatchError",
    "ScheduleOverrunWarning",
    # composition
    "cycles",
    "join",
    "warmup",
    "with_floor",
    # tools
    "find_lr",
    "layerwise_lr_decay",
    "lr_curve",
    "plot",
    "__version__",
]

#: Names that hf_lr 0.1.0 exported from the top level and that now live only in their module. They still resolve, with
#: a FutureWarning that says where to import them from.
_MOVED = {
    "Constant": "hf_lr.schedules",
    "ConstantFactor": "hf_lr.equivalents",
    "ConstantWithWarmup": "hf_lr.schedules",
    "CosineAnnealing": "hf_lr.equivalents",
    "CosineAnnealingWarmRestarts": "hf_lr.equivalents",
    "CosineWarmupWithMinLR": "hf_lr.schedules",
    "CosineWithHardRestarts": "hf_lr.schedules",
    "CosineWithMinLR": "hf_lr.schedules",
    "CosineWithWarmup": "hf_lr.schedules",
    "Cycles": "hf_lr.compose",
    "Cyclic": "hf_lr.equivalents",
    "Decay": "hf_lr.compose",
    "DeepSpeedWarmup": "hf_lr.equivalents",
    "ENTRY_POINT_GROUP": "hf_lr.registry",
    "Epochs": "hf_lr.epochs",
    "ExponentialDecay": "hf_lr.equivalents",
    "Expression": "hf_lr.expression",
    "Floor": "hf_lr.compose",
    "FunctionSchedule": "hf_lr.schedules",
    "InverseSqrt": "hf_lr.schedules",
    "Join": "hf_lr.compose",
    "LRFinderResult": "hf_lr.lr_finder",
    "LambdaSchedule": "hf_lr.schedules",
    "LinearFactor": "hf_lr.equivalents",
    "LinearWithWarmup": "hf_lr.schedules",
    "MultiStepDecay": "hf_lr.equivalents",
    "Noam": "hf_lr.schedules",
    "OneCycle": "hf_lr.equivalents",
    "Polynomial": "hf_lr.equivalents",
    "PolynomialDecay": "hf_lr.schedules",
    "ScheduleEntry": "hf_lr.registry",
    "StepDecay": "hf_lr.equivalents",
    "TimmCosine": "hf_lr.equivalents",
    "TriStage": "hf_lr.equivalents",
    "Warmup": "hf_lr.compose",
    "WarmupReduceLROnPlateau": "hf_lr.adaptive",
    "WarmupStableDecay": "hf_lr.schedules",
    "find_layers": "hf_lr.param_groups",
    "resolve_last_epoch": "hf_lr.scheduler",
    "suggest_lr": "hf_lr.lr_finder",
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module 'hf_lr' has no attribute {name!r}")
    warnings.warn(
        f"`hf_lr.{name}` moved to `{module}.{name}`; import it from there (the top-level name will be removed in a "
        "future release).",
        FutureWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(module), name)
