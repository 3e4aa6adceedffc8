"""The registry: every name is tested, users register names, entry points are discovered, errors are clear."""

from __future__ import annotations

import math
import pickle
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import make_optimizer, trajectory
from registry_cases import CASES
from transformers import SchedulerType

import hf_lr


def _builtin_names() -> set[str]:
    return {name for name in hf_lr.list_schedules() if hf_lr.get_schedule_entry(name).source == "builtin"}


def test_every_registered_name_has_a_test_case() -> None:
    """A new built-in name is covered by every registry-parametrized suite as soon as it has a case."""
    assert _builtin_names() == set(CASES)


def test_every_transformers_name_is_registered() -> None:
    assert {member.value for member in SchedulerType} <= set(hf_lr.list_schedules())


def test_entries_describe_themselves() -> None:
    for name in _builtin_names():
        entry = hf_lr.get_schedule_entry(name)
        assert entry.name == name and entry.description
        assert entry.closed_form == CASES[name].closed_form
        assert entry.metric_driven == (not entry.closed_form)  # the built-ins that are not closed form take a metric
    assert hf_lr.get_schedule_entry("polynomial").signature() == (
        "num_warmup_steps, num_training_steps, lr_end=1e-07, power=1.0, warmup_start_factor=0.0"
    )


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("warmup", [0, 10])
def test_every_name_takes_trainer_style_arguments(name: str, warmup: int) -> None:
    """What `Trainer.create_scheduler` passes (both step counts, always, and the user's `lr_scheduler_kwargs`) builds
    every name: the caller never reads the entry to know which step counts the name uses. The name's own parameters
    are its first test example's; a step count the name does not use is ignored, a warmup with a warning."""
    entry = hf_lr.get_schedule_entry(name)
    kwargs = dict(CASES[name].examples[0][2])
    optimizer = make_optimizer()
    if warmup == 0 and name in ("noam", "deepspeed_warmup", "deepspeed_warmup_decay"):  # no schedule without warmup
        with pytest.raises(ValueError, match=r"^`num_warmup_steps` must be >= 1, got num_warmup_steps=0$"):
            hf_lr.get_scheduler(name, optimizer, 0, 100, kwargs)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler = hf_lr.get_scheduler(
            name, optimizer, num_warmup_steps=warmup, num_training_steps=100, scheduler_specific_kwargs=kwargs
        )
    for warning in caught:  # the one warning allowed: a warmup that the name has no use for
        assert entry.warmup == "unused" or name == "lambda", (name, str(warning.message))
        assert f"num_warmup_steps={warmup} is ignored" in str(warning.message)
    lrs = []
    for _ in range(100):
        optimizer.step()
        scheduler.step(1.0) if entry.metric_driven else scheduler.step()
        lrs.extend(group["lr"] for group in optimizer.param_groups)
    assert all(math.isfinite(lr) and lr >= 0 for lr in lrs), name


def step_decay(step: int, *, num_warmup_steps: int, gamma: float = 0.5, period: int = 3) -> float:
    """Warmup, then multiply by `gamma` every `period` updates."""
    if step < num_warmup_steps:
        return (step + 1) / num_warmup_steps
    return gamma ** ((step - num_warmup_steps) // period)


def test_register_a_plain_function_and_use_it_through_get_scheduler(clean_registry: None) -> None:
    hf_lr.register_schedule("step_decay", step_decay)
    entry = hf_lr.get_schedule_entry("step_decay")
    assert (entry.warmup, entry.training, entry.description) == ("required", "unused", step_decay.__doc__)
    lrs = trajectory(lambda o: hf_lr.get_scheduler("step_decay", o, 2, 100, {"gamma": 0.1, "period": 2}), 8, lrs=(1.0,))
    expected = [step_decay(k, num_warmup_steps=2, gamma=0.1, period=2) for k in range(8)]
    assert [row[0] for row in lrs] == pytest.approx(expected, rel=1e-15)
    scheduler = hf_lr.get_scheduler("step_decay", make_optimizer(), 2, scheduler_specific_kwargs={"gamma": 0.1})
    config = scheduler.state_dict()["hf_lr"]["schedules"][0]
    assert config["name"] == "step_decay" and config["gamma"] == 0.1 and config["num_warmup_steps"] == 2
    assert pickle.loads(pickle.dumps(scheduler)).get_last_lr() == scheduler.get_last_lr()
    assert "step_decay" in hf_lr.list_schedules()


def test_register_as_decorator_with_only_the_step(clean_registry: None) -> None:
    @hf_lr.register_schedule("halve_every_step", description="0.5 ** step")
    def halve(step: int) -> float:
        return 0.5**step

    assert halve(2) == 0.25  # the decorator returns the function unchanged
    scheduler = hf_lr.get_scheduler("halve_every_step", make_optimizer((1.0,)), num_training_steps=10)
    optimizer = scheduler.optimizer
    optimizer.step()
    scheduler.step()
    assert scheduler.get_last_lr() == [0.5]
    assert hf_lr.get_schedule_entry("halve_every_step").description == "0.5 ** step"


def test_register_a_full_factory(clean_registry: None) -> None:
    def exponential(optimizer: torch.optim.Optimizer, gamma: float = 0.9, last_epoch: int = -1) -> Any:
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=gamma, last_epoch=last_epoch)

    hf_lr.register_schedule("torch_exponential", exponential)
    with pytest.warns(UserWarning, match=r"'torch_exponential' has no warmup: num_warmup_steps=5 is ignored"):
        scheduler = hf_lr.get_scheduler("torch_exponential", make_optimizer((1.0,)), 5, 50, {"gamma": 0.5})
    assert isinstance(scheduler, torch.optim.lr_scheduler.ExponentialLR)
    with pytest.raises(TypeError, match="'beta'"):
        hf_lr.get_scheduler("torch_exponential", make_optimizer(), scheduler_specific_kwargs={"beta": 1})
    with pytest.raises(ValueError, match="does not support `completed_steps`"):
        hf_lr.get_scheduler("torch_exponential", make_optimizer(), completed_steps=3)


def test_duplicate_registration_raises_unless_overwrite(clean_registry: None) -> None:
    with pytest.raises(ValueError, match="'linear' is already registered"):
        hf_lr.register_schedule("linear", step_decay)
    hf_lr.register_schedule("mine", step_decay)
    with pytest.raises(ValueError, match="'mine' is already registered"):
        hf_lr.register_schedule("mine", step_decay)
    hf_lr.register_schedule("mine", step_decay, overwrite=True)


def test_register_rejects_non_callables_and_bad_names(clean_registry: None) -> None:
    with pytest.raises(TypeError, match="needs a function"):
        hf_lr.register_schedule("x", 3)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="non-empty string"):
        hf_lr.register_schedule("", step_decay)


def test_unknown_name_lists_close_matches() -> None:
    with pytest.raises(ValueError, match=r"unknown schedule name 'cosin'\. Did you mean 'cosine'"):
        hf_lr.get_scheduler("cosin", make_optimizer(), 1, 10)
    with pytest.raises(ValueError, match="Known names: .*noam"):
        hf_lr.get_scheduler("zzz", make_optimizer(), 1, 10)
    with pytest.raises(TypeError, match="schedule name"):
        hf_lr.get_scheduler(3, make_optimizer(), 1, 10)  # type: ignore[arg-type]


def test_unknown_and_missing_arguments_are_named() -> None:
    with pytest.raises(TypeError, match=r"'num_cycle'.*accepts: num_cycles"):
        hf_lr.get_scheduler("cosine", make_optimizer(), 1, 10, {"num_cycle": 2})
    with pytest.raises(TypeError, match="requires 'lr_lambda'"):
        hf_lr.get_scheduler("lambda", make_optimizer())
    with pytest.raises(ValueError, match="'linear' requires `num_warmup_steps`"):
        hf_lr.get_scheduler("linear", make_optimizer(), num_training_steps=10)
    with pytest.raises(ValueError, match="'cosine' requires `num_training_steps`"):
        hf_lr.get_scheduler("cosine", make_optimizer(), num_warmup_steps=1)
    with pytest.raises(TypeError, match="pass `num_warmup_steps` as get_scheduler's own argument"):
        hf_lr.get_scheduler("linear", make_optimizer(), 1, 10, {"num_warmup_steps": 3})


def test_build_schedule_of_a_non_closed_form_name_raises() -> None:
    with pytest.raises(ValueError, match="not a closed-form"):
        hf_lr.build_schedule("reduce_lr_on_plateau")


def test_reduce_lr_on_plateau_keeps_transformers_behaviour() -> None:
    scheduler = hf_lr.get_scheduler(
        "reduce_lr_on_plateau", make_optimizer((1.0,)), 0, 50, {"patience": 0, "factor": 0.5}
    )
    assert isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    scheduler.step(1.0)
    scheduler.step(1.0)
    assert scheduler.get_last_lr() == [0.5]


PLUGIN = '''
"""A tiny third-party distribution that adds a schedule through the hf_lr.schedules entry-point group."""


def triangle(step, *, num_training_steps, peak=0.5):
    """Up to 1 at peak * T, then down to 0 at T."""
    top = max(1, int(peak * num_training_steps))
    if step <= top:
        return step / top
    return max(0.0, (num_training_steps - step) / max(1, num_training_steps - top))
'''


def _install_plugin(root: Path) -> None:
    (root / "hf_lr_triangle_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = root / "hf_lr_triangle_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hf-lr-triangle-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[hf_lr.schedules]\ntriangle = hf_lr_triangle_plugin:triangle\n")


def test_entry_point_schedule_is_discovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_registry: None
) -> None:
    _install_plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "triangle" not in hf_lr.registry._REGISTRY  # loaded lazily, on first use
    scheduler = hf_lr.get_scheduler("triangle", make_optimizer((1.0,)), num_training_steps=10)
    assert hf_lr.get_schedule_entry("triangle").source == "hf_lr_triangle_plugin:triangle"
    lrs = []
    for _ in range(11):
        lrs.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    assert lrs == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 0.8, 0.6, 0.4, 0.2, 0.0])
    assert "triangle" in hf_lr.list_schedules()


def test_entry_point_cannot_shadow_a_builtin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_registry: None
) -> None:
    _install_plugin(tmp_path)
    text = (tmp_path / "hf_lr_triangle_plugin-1.0.dist-info" / "entry_points.txt").read_text()
    (tmp_path / "hf_lr_triangle_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        text.replace("triangle =", "linear =")
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = hf_lr.list_schedules()
    assert "linear" in names and hf_lr.get_schedule_entry("linear").source == "builtin"
    assert any("would redefine the schedule 'linear'" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    ("name", "old", "new", "value"),
    [
        ("step", "warmup_kind", "warmup_type", "cosine"),
        ("warmup_hold_decay", "decay", "decay_type", "linear"),
        ("warmup_hold_decay", "warmup_kind", "warmup_type", "cosine"),
        ("reduce_lr_on_plateau_with_warmup", "warmup_kind", "warmup_type", "cosine"),
    ],
)
def test_former_parameter_names_still_work_with_a_warning(name: str, old: str, new: str, value: str) -> None:
    """One name per concept (`warmup_type`, `decay_type`, as Transformers' WSD): the former names build the same
    schedule, with a FutureWarning, and the scheduler records the current name."""
    extra = {"step_size": 3} if name == "step" else {}
    current = hf_lr.get_scheduler(name, make_optimizer(), 4, 20, {new: value, **extra})
    with pytest.warns(FutureWarning, match=rf"`{old}` is now called `{new}`"):
        former = hf_lr.get_scheduler(name, make_optimizer(), 4, 20, {old: value, **extra})
    if name == "reduce_lr_on_plateau_with_warmup":
        assert former.warmup_type == current.warmup_type == value
        return
    assert former.source == current.source
    assert former.schedule_configs() == current.schedule_configs()
    with pytest.raises(TypeError, match=rf"pass `{new}` only"):
        hf_lr.get_scheduler(name, make_optimizer(), 4, 20, {old: value, new: value, **extra})
