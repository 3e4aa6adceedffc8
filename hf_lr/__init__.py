"""hf_lr: learning-rate schedules for Transformers, Accelerate and PyTorch users.

A drop-in for ``transformers.optimization``'s schedules (same names, signatures and numbers) where every schedule is a
closed-form, picklable function of the optimizer-update count, driven by a ``torch.optim.lr_scheduler.LambdaLR``
subclass that resumes exactly and records its configuration. See README.md.

Example:
    >>> import torch
    >>> import hf_lr
    >>> optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> scheduler = hf_lr.get_scheduler("linear", optimizer, num_warmup_steps=10, num_training_steps=100)
    >>> isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
    True
"""

from hf_lr.adaptive import GreedyLR, WarmupReduceLROnPlateau, get_greedy_schedule
from hf_lr.compose import Cycles, Decay, Floor, Join, Warmup, cycles, join, warmup, with_floor
from hf_lr.curves import lr_curve
from hf_lr.epochs import Epochs
from hf_lr.equivalents import (
    ConstantFactor,
    CosineAnnealing,
    CosineAnnealingWarmRestarts,
    Cyclic,
    DeepSpeedWarmup,
    ExponentialDecay,
    LinearFactor,
    MultiStepDecay,
    OneCycle,
    Polynomial,
    StepDecay,
    TimmCosine,
    TriStage,
)
from hf_lr.expression import Expression
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
from hf_lr.lr_finder import LRFinderResult, find_lr, suggest_lr
from hf_lr.names import BUILTIN_ENTRIES as _BUILTIN_ENTRIES  # noqa: F401  (registers the built-in names)
from hf_lr.param_groups import find_layers, layerwise_lr_decay
from hf_lr.plotting import plot
from hf_lr.registry import (
    ENTRY_POINT_GROUP,
    ScheduleEntry,
    build_schedule,
    get_schedule_entry,
    get_scheduler,
    list_schedules,
    register_schedule,
)
from hf_lr.scheduler import ScheduleLR, ScheduleMismatchError, ScheduleOverrunWarning, resolve_last_epoch
from hf_lr.schedules import (
    Constant,
    ConstantWithWarmup,
    CosineWarmupWithMinLR,
    CosineWithHardRestarts,
    CosineWithMinLR,
    CosineWithWarmup,
    FunctionSchedule,
    InverseSqrt,
    LambdaSchedule,
    LinearWithWarmup,
    Noam,
    PolynomialDecay,
    Schedule,
    WarmupStableDecay,
)

__version__ = "0.1.0"

__all__ = [
    "ENTRY_POINT_GROUP",
    "Constant",
    "ConstantFactor",
    "ConstantWithWarmup",
    "CosineAnnealing",
    "CosineAnnealingWarmRestarts",
    "CosineWarmupWithMinLR",
    "CosineWithHardRestarts",
    "CosineWithMinLR",
    "CosineWithWarmup",
    "Cycles",
    "Cyclic",
    "Decay",
    "DeepSpeedWarmup",
    "Epochs",
    "ExponentialDecay",
    "Expression",
    "Floor",
    "FunctionSchedule",
    "GreedyLR",
    "InverseSqrt",
    "Join",
    "LRFinderResult",
    "LambdaSchedule",
    "LinearFactor",
    "LinearWithWarmup",
    "MultiStepDecay",
    "Noam",
    "OneCycle",
    "Polynomial",
    "PolynomialDecay",
    "Schedule",
    "ScheduleEntry",
    "ScheduleLR",
    "ScheduleMismatchError",
    "ScheduleOverrunWarning",
    "StepDecay",
    "TimmCosine",
    "TriStage",
    "Warmup",
    "WarmupReduceLROnPlateau",
    "WarmupStableDecay",
    "__version__",
    "build_schedule",
    "cycles",
    "find_layers",
    "find_lr",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_greedy_schedule",
    "get_inverse_sqrt_schedule",
    "get_lambda_schedule",
    "get_linear_schedule_with_warmup",
    "get_noam_schedule",
    "get_polynomial_decay_schedule_with_warmup",
    "get_reduce_on_plateau_schedule",
    "get_schedule_entry",
    "get_scheduler",
    "get_wsd_schedule",
    "join",
    "layerwise_lr_decay",
    "list_schedules",
    "lr_curve",
    "plot",
    "register_schedule",
    "resolve_last_epoch",
    "suggest_lr",
    "warmup",
    "with_floor",
]
