"""What the installed Transformers can be compared with, for the tests that compare hf_lr with it.

The tests compare hf_lr with the *installed* Transformers (``docs/compatibility.md`` lists the versions the matrix
runs). Where an older release lacks the function or argument a test compares with, that test skips with a reason
naming the release that added it (:func:`requires_transformers`); where an older release computes or logs something
else, the test compares with what the installed release does, through the flags below. Each entry records the first
release that has the thing, and ``test_versions.py`` probes the installed Transformers to check that record, so a
wrong version here fails instead of silently skipping a comparison that could run. Nothing here skips or changes what
hf_lr itself must do.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import inspect
from collections.abc import Callable

import pytest
import torch
from packaging.version import Version

TRANSFORMERS = Version(importlib.metadata.version("transformers"))
TORCH = Version(torch.__version__.split("+")[0])


def _optimization() -> object:
    import transformers.optimization

    return transformers.optimization


def _has_parameter(function_name: str, parameter: str) -> bool:
    function = getattr(_optimization(), function_name, None)
    return function is not None and parameter in inspect.signature(function).parameters


def _inverse_sqrt_takes_timescale() -> bool:
    """Older ``get_scheduler`` drops ``scheduler_specific_kwargs`` for ``inverse_sqrt`` (timescale 10000 is used)."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = _optimization().get_scheduler("inverse_sqrt", optimizer, 0, scheduler_specific_kwargs={"timescale": 1})
    optimizer.step()
    scheduler.step()
    return optimizer.param_groups[0]["lr"] < 0.9  # 1/sqrt(2) with timescale 1; 0.99995 with the fallback 10000


def _trainer_source() -> str:
    import transformers.trainer

    return inspect.getsource(transformers.trainer)


def _trainer_logs_the_lr_it_used() -> bool:
    # Since 4.51 the training loop reads the learning rate before the scheduler steps and hands it to the logging.
    return "learning_rate = self._get_learning_rate()" in _trainer_source()


def _trainer_allowlists_its_rng_state() -> bool:
    from transformers import Trainer

    return "safe_globals" in inspect.getsource(Trainer._load_rng_state)


def _training_arguments_field_type(name: str) -> object:
    from transformers import TrainingArguments

    return TrainingArguments.__dataclass_fields__[name].type


@dataclasses.dataclass(frozen=True)
class Feature:
    """Something a test compares with, which Transformers has from release ``since`` on."""

    what: str
    since: str
    probe: Callable[[], bool]

    @property
    def available(self) -> bool:
        return Version(self.since) <= TRANSFORMERS


FEATURES: dict[str, Feature] = {
    "wsd": Feature(
        "get_wsd_schedule(num_training_steps=, warmup_type=, decay_type=) and its get_scheduler arguments",
        "4.49",
        lambda: _has_parameter("get_wsd_schedule", "warmup_type"),
    ),
    "cosine_warmup_with_min_lr": Feature(
        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate ('cosine_warmup_with_min_lr')",
        "4.54",
        lambda: hasattr(_optimization(), "get_cosine_with_min_lr_schedule_with_warmup_lr_rate"),
    ),
    "greedy": Feature("get_greedy_schedule ('greedy')", "5.4", lambda: hasattr(_optimization(), "get_greedy_schedule")),
    "inverse_sqrt_kwargs": Feature(
        "get_scheduler('inverse_sqrt', scheduler_specific_kwargs={'timescale': ...})",
        "5.4",
        _inverse_sqrt_takes_timescale,
    ),
    "trainer_logs_the_lr_it_used": Feature(
        "Trainer logging the learning rate of the update it logs (older releases log the next update's)",
        "4.51",
        _trainer_logs_the_lr_it_used,
    ),
    "warmup_steps_ratio": Feature(
        "TrainingArguments(warmup_steps=<a ratio below 1>) (older releases spell it warmup_ratio)",
        "5.0",
        lambda: _training_arguments_field_type("warmup_steps") in ("float", float),
    ),
    "trainer_torch_load_needs_torch_2_6": Feature(
        "Trainer refusing torch.load (checkpoints) under torch < 2.6 (CVE-2025-32434)",
        "4.52",
        lambda: "check_torch_load_is_safe" in _trainer_source(),
    ),
    "trainer_rng_state_safe_globals": Feature(
        "Trainer resuming its own rng_state.pth under torch >= 2.6's torch.load(weights_only=True) default",
        "4.47",
        _trainer_allowlists_its_rng_state,
    ),
}


def requires_transformers(feature: str) -> pytest.MarkDecorator:
    """Skip, with the reason, where the installed Transformers lacks what the test compares with."""
    wanted = FEATURES[feature]
    reason = f"compares with {wanted.what}, new in Transformers {wanted.since} (installed: {TRANSFORMERS})"
    return pytest.mark.skipif(not wanted.available, reason=reason)


#: Transformers' Trainer log row for update ``k`` (0-based) holds the learning rate of update ``k + LOGGED_LR_OFFSET``.
LOGGED_LR_OFFSET = 0 if FEATURES["trainer_logs_the_lr_it_used"].available else 1


def warmup_arguments(warmup: float) -> dict[str, float]:
    """``TrainingArguments`` keywords for a warmup given as a count or as a ratio below 1."""
    if warmup < 1 and not FEATURES["warmup_steps_ratio"].available:
        return {"warmup_ratio": warmup}
    return {"warmup_steps": warmup}


def _why_trainer_cannot_resume(rng_state: bool) -> str | None:
    """Why the installed Transformers cannot load its own checkpoints (``rng_state``: and its rng state, which it loads
    last) under the installed torch, if it cannot."""
    rng, refuses = FEATURES["trainer_rng_state_safe_globals"], FEATURES["trainer_torch_load_needs_torch_2_6"]
    if Version("2.6") > TORCH and refuses.available:
        return f"Transformers {TRANSFORMERS} refuses to load checkpoints under torch {TORCH} (since {refuses.since})"
    if rng_state and Version("2.6") <= TORCH and not rng.available:
        return (
            f"Transformers {TRANSFORMERS} cannot load its own rng_state.pth under torch {TORCH} (fixed in {rng.since})"
        )
    return None


def _skip_unless(reason: str | None) -> pytest.MarkDecorator:
    return pytest.mark.skipif(reason is not None, reason=str(reason))


#: For tests that resume a Trainer run from its checkpoint: skipped where Transformers itself cannot, whatever the
#: scheduler; ``requires_trainer_checkpoints`` for tests that only need the checkpoint's model and scheduler loaded.
requires_resumable_trainer = _skip_unless(_why_trainer_cannot_resume(rng_state=True))
requires_trainer_checkpoints = _skip_unless(_why_trainer_cannot_resume(rng_state=False))
