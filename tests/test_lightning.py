"""hf_lr under PyTorch Lightning: per-update names, gradient accumulation, metric-driven names, ``fit(ckpt_path=...)``.

Every run is a tiny linear model on CPU. The learning rates are read from the optimizer in
``on_before_optimizer_step``, i.e. the value each optimizer update really used, and compared with an independent
computation: ``hf_lr.lr_curve`` by name (its vectorized formula, no scheduler involved), torch's or Transformers' own
plateau schedulers driven with the same metric sequence, or the uninterrupted run.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
import transformers.optimization
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.fabric.utilities.warnings import PossibleUserWarning
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader, TensorDataset
from versions import requires_transformers

import hf_lr
from hf_lr.compose import Decay

# Lightning 2.6 on torch 2.13 warns about its own use of a deprecated torch.utils._pytree name.
pytestmark = pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning")

GROUP_LRS = (0.1, 0.01)  # layer-wise: the weight and the bias of the model get different learning rates
BATCH_SIZE = 2
ESTIMATED = "estimated"  # size the schedule with trainer.estimated_stepping_batches, as docs/lightning.md advises


def halving(step: int, *, num_warmup_steps: int, period: int = 3) -> float:
    """A user's multiplier function: linear warmup, then halve every `period` updates."""
    if step < num_warmup_steps:
        return step / num_warmup_steps
    return 0.5 ** ((step - num_warmup_steps) // period)


def cosine_with_floor(num_warmup_steps: int, num_training_steps: int, min_lr_ratio: float = 0.1) -> hf_lr.Schedule:
    """A user's composite: cosine warmup, then a cosine decay that ends at `min_lr_ratio`."""
    decay = hf_lr.with_floor(Decay(num_training_steps - num_warmup_steps, "cosine"), min_lr_ratio=min_lr_ratio)
    return hf_lr.warmup(decay, num_warmup_steps, warmup_type="cosine")


@pytest.fixture
def user_names(clean_registry: None) -> None:
    hf_lr.register_schedule("lightning_halving", halving)
    hf_lr.register_schedule("lightning_cosine_with_floor", cosine_with_floor, kind="schedule")


def make_loader(num_batches: int, seed: int = 0) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(num_batches * BATCH_SIZE, 4, generator=generator)
    y = torch.randn(num_batches * BATCH_SIZE, 1, generator=generator)
    return DataLoader(TensorDataset(x, y), batch_size=BATCH_SIZE)


def make_trainer(**kwargs: Any) -> pl.Trainer:
    """A quiet CPU Trainer: no logger, progress bar, model summary or checkpoints unless asked for."""
    options: dict[str, Any] = {
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
    }
    options.update(kwargs)
    return pl.Trainer(**options)


class Regressor(pl.LightningModule):
    """A linear model whose weight and bias are two parameter groups; records the lrs every optimizer update used.

    `lr_scheduler` is the scheduler config dict Lightning gets, without its "scheduler" (built here with
    ``hf_lr.get_scheduler`` from `name`, `num_warmup_steps`, `num_training_steps` and `kwargs`).
    """

    def __init__(
        self,
        name: str,
        num_warmup_steps: int | None,
        num_training_steps: int | str | None,
        kwargs: dict[str, Any],
        lrs: tuple[float, ...] = GROUP_LRS,
        lr_scheduler: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.name, self.kwargs, self.lrs = name, kwargs, lrs
        self.num_warmup_steps, self.num_training_steps = num_warmup_steps, num_training_steps
        self.lr_scheduler = {"interval": "step"} if lr_scheduler is None else lr_scheduler
        self.seen_lrs: list[list[float]] = []

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self) -> dict[str, Any]:
        weight, bias = self.layer.weight, self.layer.bias
        parts = [[weight, bias]] if len(self.lrs) == 1 else [[weight], [bias]]
        groups = [{"params": part, "lr": lr} for part, lr in zip(parts, self.lrs)]
        optimizer = torch.optim.SGD(groups, lr=self.lrs[0], momentum=0.9)
        total = (
            self.trainer.estimated_stepping_batches if self.num_training_steps == ESTIMATED else self.num_training_steps
        )
        scheduler = hf_lr.get_scheduler(self.name, optimizer, self.num_warmup_steps, total, dict(self.kwargs))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, **self.lr_scheduler}}

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        self.seen_lrs.append([float(group["lr"]) for group in optimizer.param_groups])


class MonitoredRegressor(Regressor):
    """Logs "val_loss" from a sequence the test chooses, one value per epoch (dyadic values: exact in float32)."""

    def __init__(self, *args: Any, val_losses: tuple[float, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.val_losses = val_losses

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self.log("val_loss", self.val_losses[self.current_epoch])


def expected_curve(
    name: str, num_steps: int, w: int | None, t: int | None, kwargs: dict[str, Any], lrs: tuple[float, ...]
) -> np.ndarray:
    """``lr_curve`` by name, one column per group (every case here scales with the group's own lr)."""
    columns = [
        hf_lr.lr_curve(
            name, num_steps, base_lr=lr, num_warmup_steps=w, num_training_steps=t, scheduler_specific_kwargs=kwargs
        )
        for lr in lrs
    ]
    return np.stack(columns, axis=1)


def assert_curve(seen: Any, expected: np.ndarray) -> None:
    """The learning rates seen equal ``lr_curve``'s, which is NumPy's: exact, or within a few units in the last place
    where NumPy's vector ``cos`` rounds differently from :mod:`math` (NumPy 1.22's AVX-512 ``cos``)."""
    np.testing.assert_allclose(np.asarray(seen), expected, rtol=1e-14, atol=0)


def fit(module: Regressor, num_batches: int = 8, **trainer_kwargs: Any) -> pl.Trainer:
    torch.manual_seed(0)
    trainer = make_trainer(**trainer_kwargs)
    trainer.fit(module, make_loader(num_batches))
    return trainer


# (name, num_warmup_steps, num_training_steps, scheduler_specific_kwargs, group lrs). 14 updates over 8-batch epochs:
# the runs cross an epoch boundary and, for the names sized 12, go past the end of the schedule.
PER_STEP_CASES = [
    ("linear", 4, 12, {}, GROUP_LRS),
    ("cosine", 4, 12, {}, GROUP_LRS),
    ("cosine_with_min_lr", 4, 12, {"min_lr_rate": 0.1}, GROUP_LRS),
    ("noam", 4, None, {"d_model": 16}, (0.1,)),  # absolute mode: the paper's value whatever the lr, one group
    ("noam", 4, None, {"mode": "peak"}, GROUP_LRS),
    ("one_cycle", 0, 14, {"pct_start": 0.25}, GROUP_LRS),
    ("warmup_stable_decay", 2, 12, {"num_decay_steps": 4}, GROUP_LRS),
    ("lightning_halving", 3, None, {"period": 2}, GROUP_LRS),
    ("lightning_cosine_with_floor", 4, 12, {"min_lr_ratio": 0.2}, GROUP_LRS),
]
NUM_STEPS = 14


def case_id(case: tuple) -> str:
    name, _w, _t, kwargs, lrs = case
    return f"{name}-{len(lrs)}groups" + "".join(f"-{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", PER_STEP_CASES, ids=case_id)
def test_per_step_names_follow_lr_curve_exactly(case: tuple, user_names: None) -> None:
    name, w, t, kwargs, lrs = case
    module = Regressor(name, w, t, kwargs, lrs)
    trainer = fit(module, max_steps=NUM_STEPS)
    assert trainer.global_step == NUM_STEPS
    seen = np.array(module.seen_lrs)
    expected = expected_curve(name, NUM_STEPS, w, t, kwargs, lrs)
    assert len(np.unique(expected[:, 0])) > 4  # the curve moves within an epoch: stepping per epoch cannot match
    assert_curve(seen, expected)


@pytest.mark.parametrize(("name", "kwargs"), [("linear", {}), ("cosine_with_min_lr", {"min_lr_rate": 0.1})])
def test_gradient_accumulation_counts_optimizer_updates(name: str, kwargs: dict[str, Any]) -> None:
    # 8 batches an epoch, 2 batches an update, 3 epochs: 12 updates, which estimated_stepping_batches must report.
    module = Regressor(name, 3, ESTIMATED, kwargs)
    trainer = fit(module, max_epochs=3, accumulate_grad_batches=2)
    assert trainer.estimated_stepping_batches == trainer.global_step == len(module.seen_lrs) == 12
    assert_curve(np.array(module.seen_lrs), expected_curve(name, 12, 3, 12, kwargs, GROUP_LRS))


def test_default_interval_is_epoch() -> None:
    """Without "interval": "step" Lightning steps the scheduler once per epoch (docs/lightning.md warns about it)."""
    module = Regressor("linear", 0, 12, {}, lr_scheduler={})
    fit(module, num_batches=4, max_epochs=3)
    per_epoch = expected_curve("linear", 3, 0, 12, {}, GROUP_LRS)
    assert_curve(np.array(module.seen_lrs), np.repeat(per_epoch, 4, axis=0))


def test_frequency_counts_batches_not_updates() -> None:
    """Lightning tests `frequency` against the batch index: with accumulate_grad_batches=2, frequency=2 still steps
    the scheduler at every update (docs/lightning.md: keep frequency 1 and size the schedule in updates)."""
    module = Regressor("linear", 2, 8, {}, lr_scheduler={"interval": "step", "frequency": 2})
    fit(module, max_steps=8, accumulate_grad_batches=2)
    assert_curve(np.array(module.seen_lrs), expected_curve("linear", 8, 2, 8, {}, GROUP_LRS))


# One metric value per epoch: improves twice, stalls for four epochs, improves, stalls.
VAL_LOSSES = (1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25)
UPDATES_PER_EPOCH = 4
ON_VAL_LOSS = {"interval": "epoch", "monitor": "val_loss"}


def reference_plateau_lrs(
    scheduler_class: type, kwargs: dict[str, Any], losses: tuple[float, ...]
) -> list[list[float]]:
    """The lrs of each epoch from an independent plateau scheduler stepped with `losses`, one after each epoch."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in GROUP_LRS]
    optimizer = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, GROUP_LRS)], lr=GROUP_LRS[0])
    scheduler = scheduler_class(optimizer, **kwargs)
    lrs = []
    for loss in losses:
        lrs.append([float(group["lr"]) for group in optimizer.param_groups])
        scheduler.step(loss)
    return lrs


def fit_monitored(name: str, w: int | None, kwargs: dict[str, Any]) -> list[list[float]]:
    module = MonitoredRegressor(name, w, None, kwargs, lr_scheduler=ON_VAL_LOSS, val_losses=VAL_LOSSES)
    torch.manual_seed(0)
    trainer = make_trainer(max_epochs=len(VAL_LOSSES))
    trainer.fit(module, make_loader(UPDATES_PER_EPOCH), make_loader(1, seed=1))
    assert len(module.seen_lrs) == UPDATES_PER_EPOCH * len(VAL_LOSSES)
    return module.seen_lrs


@pytest.mark.parametrize(
    ("name", "kwargs", "reference"),
    [
        ("reduce_lr_on_plateau", {"patience": 1, "factor": 0.5}, torch.optim.lr_scheduler.ReduceLROnPlateau),
        pytest.param(
            "greedy",
            {"patience": 1, "factor": 0.5, "min_lr": 1e-3},
            getattr(transformers.optimization, "GreedyLR", None),
            marks=requires_transformers("greedy"),
        ),
    ],
)
def test_metric_driven_names_follow_the_monitored_metric(name: str, kwargs: dict[str, Any], reference: type) -> None:
    seen = fit_monitored(name, None, kwargs)
    expected = reference_plateau_lrs(reference, kwargs, VAL_LOSSES)
    assert len({tuple(lrs) for lrs in expected}) >= 3  # the metric really moves the learning rate
    # The lr changes only between epochs (after validation), by what the metric dictates.
    assert seen == [lrs for lrs in expected for _ in range(UPDATES_PER_EPOCH)]


def test_plateau_with_warmup_warms_up_per_update_then_follows_the_metric() -> None:
    """The warmup follows the optimizer's updates (a hook, whatever the interval); the metric of epoch 0, reported
    during the warmup (6 updates), is ignored; from epoch 1 on it is torch's ReduceLROnPlateau."""
    kwargs = {"patience": 1, "factor": 0.5}
    seen = fit_monitored("reduce_lr_on_plateau_with_warmup", 6, kwargs)
    warmup = expected_curve("constant_with_warmup", 2 * UPDATES_PER_EPOCH, 6, None, {}, GROUP_LRS)  # epochs 0 and 1
    assert_curve(np.array(seen[: 2 * UPDATES_PER_EPOCH]), warmup)
    after = reference_plateau_lrs(torch.optim.lr_scheduler.ReduceLROnPlateau, kwargs, VAL_LOSSES[1:])[1:]  # epochs 2..
    assert len({tuple(lrs) for lrs in after}) >= 3
    assert seen[2 * UPDATES_PER_EPOCH :] == [lrs for lrs in after for _ in range(UPDATES_PER_EPOCH)]


def test_plateau_names_require_a_monitor() -> None:
    """hf_lr's GreedyLR is a ReduceLROnPlateau subclass, so Lightning recognises it and asks for the metric to pass."""
    module = Regressor("greedy", None, None, {}, lr_scheduler={"interval": "epoch"})
    with pytest.raises(MisconfigurationException, match="must include a monitor"):
        fit(module, max_epochs=1)


@requires_transformers("greedy")
def test_lightning_rejects_transformers_greedy() -> None:
    """Transformers' own GreedyLR (a plain class) is rejected unless lr_scheduler_step is overridden."""

    class WithTransformersGreedy(Regressor):
        def configure_optimizers(self) -> dict[str, Any]:
            optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
            scheduler = transformers.optimization.GreedyLR(optimizer)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss"}}

    with pytest.raises(MisconfigurationException, match="doesn't follow PyTorch's LRScheduler API"):
        fit(WithTransformersGreedy("greedy", None, None, {}), max_epochs=1)


# Resuming: 14 updates, 4-batch epochs (ends of epochs at updates 4, 8, 12); `accumulate` 2 makes them 2-update epochs.
RESUME_STEPS = 14
RESUME_CASES = [
    # (name, num_warmup_steps, num_training_steps, kwargs, accumulate_grad_batches)
    ("cosine", 6, 12, {}, 1),
    ("noam", 6, None, {"mode": "peak"}, 1),
    ("one_cycle", 0, 14, {}, 1),
    ("lightning_halving", 5, None, {"period": 3}, 2),
]


def resume_id(case: tuple) -> str:
    name, _w, _t, _kwargs, accumulate = case
    return f"{name}-accumulate{accumulate}"


def run_with_checkpoints(case: tuple, directory: Path) -> tuple[Regressor, pl.Trainer]:
    name, w, t, kwargs, accumulate = case
    module = Regressor(name, w, t, kwargs)
    checkpoints = ModelCheckpoint(dirpath=directory, filename="{step}", every_n_train_steps=1, save_top_k=-1)
    trainer = fit(
        module, num_batches=4, max_steps=RESUME_STEPS, accumulate_grad_batches=accumulate,
        enable_checkpointing=True, callbacks=[checkpoints],
    )  # fmt: skip
    return module, trainer


def resume(case: tuple, checkpoint: Path, **changes: Any) -> tuple[Regressor, bool]:
    """Resume from `checkpoint` to RESUME_STEPS; also says whether Lightning warned that the data order is lost."""
    name, w, t, kwargs, accumulate = case
    module = Regressor(name, w, changes.get("num_training_steps", t), kwargs)
    torch.manual_seed(1)  # a different initialisation and RNG state: the checkpoint must restore what matters
    trainer = make_trainer(max_steps=RESUME_STEPS, accumulate_grad_batches=accumulate)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PossibleUserWarning)
        trainer.fit(module, make_loader(4), ckpt_path=checkpoint)
    assert trainer.global_step == RESUME_STEPS
    data_order_lost = any("checkpoint that ended before the epoch ended" in str(w.message) for w in caught)
    return module, data_order_lost


@pytest.mark.parametrize("case", RESUME_CASES, ids=resume_id)
def test_fit_ckpt_path_resumes_exactly(case: tuple, user_names: None, tmp_path: Path) -> None:
    name, w, t, kwargs, accumulate = case
    reference, _ = run_with_checkpoints(case, tmp_path)
    updates_per_epoch = 4 // accumulate
    expected = expected_curve(name, RESUME_STEPS, w, t, kwargs, GROUP_LRS)
    assert_curve(np.array(reference.seen_lrs), expected)
    for k in (2, 3, 4, 8, 11):  # 2, 3, 4: in the warmup (or one_cycle's rise); at and between the ends of epochs
        resumed, data_order_lost = resume(case, tmp_path / f"step={k}.ckpt")
        assert resumed.seen_lrs == reference.seen_lrs[k:], f"resumed at update {k}"
        end_of_epoch = k % updates_per_epoch == 0
        # Mid-epoch, Lightning cannot restore a plain DataLoader's position, and says so (docs/lightning.md); the
        # learning rates above are exact anyway. At the end of an epoch the whole run is reproduced bit for bit.
        assert data_order_lost != end_of_epoch, f"resumed at update {k}"
        if end_of_epoch:
            for p, q in zip(resumed.parameters(), reference.parameters()):
                assert torch.equal(p, q), f"resumed at update {k}"


def test_resume_with_another_schedule_size_raises(tmp_path: Path) -> None:
    """A checkpoint whose schedule had another num_training_steps is refused, not silently bent to the new length."""
    case = ("cosine", 6, 12, {}, 1)
    run_with_checkpoints(case, tmp_path)
    with pytest.raises(hf_lr.ScheduleMismatchError, match="num_training_steps: saved 12, live 20"):
        resume(case, tmp_path / "step=8.ckpt", num_training_steps=20)


DOCS = Path(__file__).resolve().parent.parent / "docs" / "lightning.md"


def test_docs_code_blocks_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/lightning.md's Python blocks run as written, in order (later blocks continue the first one)."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)  # the examples write lightning_logs/ and checkpoints/ into the working directory
    namespace: dict[str, Any] = {"__name__": "docs_lightning"}
    exec(compile(blocks[0], f"{DOCS.name} block 0", "exec"), namespace)
    assert capsys.readouterr().out.splitlines()[-1] == "24"  # the number the comment gives
    assert (tmp_path / "checkpoints" / "last.ckpt").exists()
    for index, block in enumerate(blocks[1:], start=1):
        exec(compile(block, f"{DOCS.name} block {index}", "exec"), namespace)
    assert namespace["trainer"].global_step == 24  # the resumed run ends where the first one did
