"""transformers.Trainer with any hf_lr name: from Python, from HfArgumentParser, resumed, and the plain route."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    HfArgumentParser,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)
from versions import LOGGED_LR_OFFSET, requires_resumable_trainer, requires_trainer_checkpoints, warmup_arguments

import hf_lr
from hf_lr.integrations.transformers import HfLrTrainer, HfLrTrainingArguments

STEPS = 12


class TinyDataset(torch.utils.data.Dataset):
    """Sequences whose label is whether token 5 occurs: learnable, deterministic, no download."""

    def __init__(self, size: int = 64, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(6, 40, (size, 8), generator=generator)
        self.labels = torch.randint(0, 2, (size,), generator=generator)
        self.ids[self.labels == 1, 3] = 5

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {
            "input_ids": self.ids[index],
            "attention_mask": torch.ones(8, dtype=torch.long),
            "labels": self.labels[index],
        }


def tiny_model(seed: int = 0) -> BertForSequenceClassification:
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
    )
    return BertForSequenceClassification(config)


def _args(tmp_path: Path, cls: type = HfLrTrainingArguments, **overrides: Any) -> Any:
    settings = {
        "output_dir": str(tmp_path / "out"), "per_device_train_batch_size": 8, "max_steps": STEPS,
        "learning_rate": 1e-3, "logging_steps": 1,
        "save_strategy": "no", "report_to": "none", "use_cpu": True, "seed": 7, "data_seed": 7, "disable_tqdm": True,
    }  # fmt: skip
    settings.update(overrides)
    return cls(**settings)


def _history(trainer: Trainer) -> tuple[list[float], list[float]]:
    rows = [row for row in trainer.state.log_history if "learning_rate" in row]
    return [row["learning_rate"] for row in rows], [row["loss"] for row in rows]


def _expected(name: str, warmup: int, kwargs: dict[str, Any], lr: float = 1e-3) -> list[float]:
    """The learning rates Trainer logs for updates 0..STEPS-1 when it follows the schedule."""
    schedule = hf_lr.build_schedule(name, warmup, STEPS, **kwargs).bind(lr)
    return [lr * schedule(step + LOGGED_LR_OFFSET) for step in range(STEPS)]


def step_then_hold(step: int, *, num_warmup_steps: int, num_training_steps: int, low: float = 0.25) -> float:
    """A user-registered schedule: warmup, full lr for half the run, then `low`."""
    if step < num_warmup_steps:
        return (step + 1) / (num_warmup_steps + 1)
    return 1.0 if step < num_training_steps // 2 else low


@pytest.fixture
def registered(clean_registry: None) -> None:
    hf_lr.register_schedule("step_then_hold", step_then_hold)


@pytest.mark.parametrize(
    ("name", "warmup_steps", "kwargs"),
    [
        ("noam", 4, {"d_model": 32, "mode": "peak"}),
        ("step_then_hold", 3, {"low": 0.1}),
        ("cosine_annealing", 2, {"eta_min": 1e-4}),
        ("linear", 0.25, {}),
    ],
)
def test_trainer_follows_any_hf_lr_name_from_python(
    registered: None, tmp_path: Path, name: str, warmup_steps: float, kwargs: dict[str, Any]
) -> None:
    args = _args(tmp_path, lr_scheduler_type=name, lr_scheduler_kwargs=kwargs, **warmup_arguments(warmup_steps))
    trainer = HfLrTrainer(model=tiny_model(), args=args, train_dataset=TinyDataset())
    trainer.train()
    lrs, losses = _history(trainer)
    warmup = args.get_warmup_steps(STEPS)
    assert warmup == (math.ceil(STEPS * warmup_steps) if warmup_steps < 1 else warmup_steps)
    assert lrs == pytest.approx(_expected(name, warmup, kwargs), rel=1e-12)
    assert all(math.isfinite(loss) for loss in losses)


@pytest.mark.parametrize(
    ("name", "warmup", "kwargs"), [("step_then_hold", 2, {"low": 0.5}), ("noam", 4, {"d_model": 64, "mode": "peak"})]
)
def test_trainer_from_the_command_line(
    registered: None, tmp_path: Path, name: str, warmup: int, kwargs: dict[str, Any]
) -> None:
    parser = HfArgumentParser(HfLrTrainingArguments)
    argv = [
        "--output_dir", str(tmp_path / "cli"), "--max_steps", str(STEPS), "--learning_rate", "1e-3", "--logging_steps", "1",
        "--per_device_train_batch_size", "8", "--report_to", "none", "--use_cpu", "--save_strategy", "no",
        "--lr_scheduler_type", name, "--warmup_steps", str(warmup), "--lr_scheduler_kwargs", json.dumps(kwargs),
    ]  # fmt: skip
    (args,) = parser.parse_args_into_dataclasses(argv)
    assert (args.lr_scheduler_type, args.lr_scheduler_kwargs) == (name, kwargs)
    trainer = HfLrTrainer(model=tiny_model(), args=args, train_dataset=TinyDataset())
    trainer.train()
    assert _history(trainer)[0] == pytest.approx(_expected(name, warmup, kwargs), rel=1e-12)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr_scheduler_type", "cosin"], r"unknown schedule name 'cosin'\. Did you mean 'cosine'"),
        (
            ["--lr_scheduler_type", "noam", "--lr_scheduler_kwargs", '{"d_modl": 64}'],
            r"unknown argument\(s\) 'd_modl'.*d_model",
        ),
        (["--lr_scheduler_type", "lambda"], r"requires 'lr_lambda'"),
        (["--lr_scheduler_type", "reduce_lr_on_plateau_with_warmup"], "requires an eval strategy"),
    ],
)
def test_bad_names_and_arguments_fail_at_parse_time(tmp_path: Path, argv: list[str], message: str) -> None:
    parser = HfArgumentParser(HfLrTrainingArguments)
    with pytest.raises(ValueError, match=message):
        parser.parse_args_into_dataclasses(["--output_dir", str(tmp_path), "--report_to", "none", *argv])


def test_plain_training_arguments_get_hf_lr_numbers(tmp_path: Path) -> None:
    args = _args(tmp_path, cls=TrainingArguments, lr_scheduler_type="cosine", warmup_steps=3)
    ours = HfLrTrainer(model=tiny_model(), args=args, train_dataset=TinyDataset())
    ours.train()
    theirs = Trainer(
        model=tiny_model(),
        args=_args(tmp_path, cls=TrainingArguments, lr_scheduler_type="cosine", warmup_steps=3),
        train_dataset=TinyDataset(),
    )
    theirs.train()
    assert isinstance(ours.lr_scheduler, hf_lr.ScheduleLR)
    assert _history(ours) == _history(theirs)  # same learning rates and, seeded, the same losses


def _plain_route(args: Any, optimizer_lr: float = 1e-3) -> Trainer:
    model = tiny_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=optimizer_lr)
    scheduler = hf_lr.get_scheduler(
        "noam", optimizer, num_warmup_steps=4, scheduler_specific_kwargs={"d_model": 32, "mode": "peak"}
    )
    return Trainer(model=model, args=args, train_dataset=TinyDataset(), optimizers=(optimizer, scheduler))


def test_plain_route_optimizers_tuple(tmp_path: Path) -> None:
    trainer = _plain_route(_args(tmp_path, cls=TrainingArguments))
    trainer.train()
    assert _history(trainer)[0] == pytest.approx(_expected("noam", 4, {"d_model": 32, "mode": "peak"}), rel=1e-12)


class StopAfter(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if state.global_step >= self.step:
            control.should_training_stop = True
        return control


@pytest.mark.parametrize("route", ["hf_lr_trainer", "plain"])
@requires_resumable_trainer
def test_resume_from_checkpoint_reproduces_the_uninterrupted_run(tmp_path: Path, route: str) -> None:
    def trainer(directory: str, max_steps: int) -> Trainer:
        common = {
            "output_dir": str(tmp_path / directory),
            "save_strategy": "steps",
            "save_steps": 5,
            "max_steps": max_steps,
        }
        if route == "plain":
            return _plain_route(_args(tmp_path, cls=TrainingArguments, **common))
        args = _args(
            tmp_path,
            lr_scheduler_type="warmup_stable_decay",
            warmup_steps=3,
            lr_scheduler_kwargs={"num_decay_steps": 5},
            **common,
        )
        return HfLrTrainer(model=tiny_model(), args=args, train_dataset=TinyDataset())

    full = trainer("full", STEPS)
    full.train()
    expected = _history(full)
    interrupted = trainer("cut", STEPS)
    interrupted.add_callback(StopAfter(5))  # an interruption right after the checkpoint of step 5
    interrupted.train()
    assert _history(interrupted)[0] == expected[0][:5]
    resumed = trainer("cut", STEPS)
    resumed.train(resume_from_checkpoint=str(tmp_path / "cut" / "checkpoint-5"))
    assert resumed.state.global_step == STEPS
    assert _history(resumed) == expected  # the checkpoint's first 5 log rows, then the resumed ones


@requires_trainer_checkpoints
def test_resuming_with_another_schedule_size_raises(tmp_path: Path) -> None:
    common = {"output_dir": str(tmp_path / "o"), "save_strategy": "steps", "save_steps": 4}
    first = HfLrTrainer(
        model=tiny_model(),
        args=_args(tmp_path, lr_scheduler_type="linear", max_steps=4, **common),
        train_dataset=TinyDataset(),
    )
    first.train()
    second = HfLrTrainer(
        model=tiny_model(),
        args=_args(tmp_path, lr_scheduler_type="linear", max_steps=8, **common),
        train_dataset=TinyDataset(),
    )
    with pytest.raises(hf_lr.ScheduleMismatchError, match="num_training_steps: saved 4, live 8"):
        second.train(resume_from_checkpoint=str(tmp_path / "o" / "checkpoint-4"))


@requires_resumable_trainer
@pytest.mark.parametrize("mode", ["stretch", "rewarm"])
def test_resuming_with_a_larger_max_steps_and_the_flag_extends_the_schedule(tmp_path: Path, mode: str) -> None:
    """A run sized 8 updates checkpointed at update 4, resumed with max_steps=16 and --lr_scheduler_extend: the logged
    lrs after the checkpoint follow the checkpoint's schedule extended at update 4 to 16 (not a fresh 16-update one)."""
    common = {"output_dir": str(tmp_path / "o"), "save_strategy": "steps", "save_steps": 4, "warmup_steps": 2}
    first = HfLrTrainer(
        model=tiny_model(),
        args=_args(tmp_path, lr_scheduler_type="cosine", max_steps=8, **common),
        train_dataset=TinyDataset(),
    )
    first.train()
    args = _args(tmp_path, lr_scheduler_type="cosine", max_steps=16, lr_scheduler_extend=mode, **common)
    second = HfLrTrainer(model=tiny_model(), args=args, train_dataset=TinyDataset())
    second.train(resume_from_checkpoint=str(tmp_path / "o" / "checkpoint-4"))
    lrs, _ = _history(second)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    reference = hf_lr.get_scheduler("cosine", optimizer, 2, 8, completed_steps=4)
    reference.extend(16, mode, **({"num_warmup_steps": 2} if mode == "rewarm" else {}))  # rewarm: the new run's warmup
    expected = [float(v) for v in hf_lr.lr_curve(reference, 16 + LOGGED_LR_OFFSET)][LOGGED_LR_OFFSET:]
    assert lrs == pytest.approx(expected, rel=1e-12)  # the first 4 rows come from the checkpoint's log history
    assert len(lrs) == 16
    assert second.lr_scheduler.last_epoch == 16


def _two_lr_optimizer(model: torch.nn.Module, head_lr: float = 5e-3, body_lr: float = 1e-3) -> torch.optim.Optimizer:
    head = [p for n, p in model.named_parameters() if n.startswith("classifier")]
    body = [p for n, p in model.named_parameters() if not n.startswith("classifier")]
    return torch.optim.AdamW([{"params": body, "lr": body_lr}, {"params": head, "lr": head_lr}], lr=body_lr)


def _cosine_multiplier(step: int, warmup: int, total: int) -> float:
    """Transformers' cosine with warmup, written from its formula."""
    if step < warmup:
        return step / warmup
    return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def test_trainer_logs_every_group_lr_when_the_groups_differ(tmp_path: Path) -> None:
    model = tiny_model()
    args = _args(tmp_path, lr_scheduler_type="cosine", warmup_steps=3, logging_steps=2)
    trainer = HfLrTrainer(
        model=model, args=args, train_dataset=TinyDataset(), optimizers=(_two_lr_optimizer(model), None)
    )
    trainer.train()
    rows = [row for row in trainer.state.log_history if "learning_rate" in row]
    assert [row["step"] for row in rows] == list(range(2, STEPS + 1, 2))
    # The row of global step k reports the lrs update k used, base lr * multiplier(k - 1) (the next update's before
    # Transformers 4.51: LOGGED_LR_OFFSET); every group's is read when Trainer reads group 0's.
    for row in rows:
        multiplier = _cosine_multiplier(row["step"] - 1 + LOGGED_LR_OFFSET, 3, STEPS)
        assert row["learning_rate"] == pytest.approx(1e-3 * multiplier, rel=1e-12, abs=1e-18)  # group 0, as Trainer
        assert row["learning_rate_group_1"] == pytest.approx(5e-3 * multiplier, rel=1e-12, abs=1e-18)
        assert "learning_rate_group_2" not in row and "learning_rate_group_0" not in row


def test_trainer_group_lr_logs_follow_the_setting(tmp_path: Path) -> None:
    # Trainer's own optimizer: two groups (with and without weight decay) sharing one lr: nothing extra by default.
    default = HfLrTrainer(
        model=tiny_model(), args=_args(tmp_path, lr_scheduler_type="linear", max_steps=4), train_dataset=TinyDataset()
    )
    default.train()
    assert len(default.optimizer.param_groups) == 2
    rows = [row for row in default.state.log_history if "learning_rate" in row]
    assert rows and not any(key.startswith("learning_rate_group") for row in rows for key in row)
    # Asked for: logged, equal to group 0's here.
    forced = HfLrTrainer(
        model=tiny_model(),
        args=_args(tmp_path, lr_scheduler_type="linear", max_steps=4, log_group_learning_rates=True),
        train_dataset=TinyDataset(),
    )
    forced.train()
    rows = [row for row in forced.state.log_history if "learning_rate" in row]
    assert len(rows) == 4 and all(row["learning_rate_group_1"] == row["learning_rate"] for row in rows)
    # Refused: not logged even though the groups differ.
    model = tiny_model()
    off = HfLrTrainer(
        model=model, args=_args(tmp_path, lr_scheduler_type="linear", max_steps=2, log_group_learning_rates=False),
        train_dataset=TinyDataset(), optimizers=(_two_lr_optimizer(model), None),
    )  # fmt: skip
    off.train()
    assert not any(key.startswith("learning_rate_group") for row in off.state.log_history for key in row)


def test_log_group_learning_rates_must_be_a_bool(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"`log_group_learning_rates` must be True, False or None, got 'yes'"):
        _args(tmp_path, log_group_learning_rates="yes")
    parser = HfArgumentParser(HfLrTrainingArguments)
    (args,) = parser.parse_args_into_dataclasses(
        ["--output_dir", str(tmp_path), "--report_to", "none", "--log_group_learning_rates", "true"]
    )
    assert args.log_group_learning_rates is True


def test_a_warmup_ratio_in_warmup_steps_works_on_every_transformers(tmp_path: Path) -> None:
    """``warmup_steps=0.25`` is a ratio as in Transformers 5, also where Trainer spells it ``warmup_ratio`` (< 5.0)."""
    args = _args(tmp_path, lr_scheduler_type="linear", warmup_steps=0.25)
    assert args.get_warmup_steps(STEPS) == 3
    if hasattr(args, "warmup_ratio"):
        with pytest.raises(ValueError, match="not both: got warmup_steps=0.25 and warmup_ratio=0.5"):
            _args(tmp_path, lr_scheduler_type="linear", warmup_steps=0.25, warmup_ratio=0.5)
