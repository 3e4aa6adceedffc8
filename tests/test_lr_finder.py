"""The LR range test: a useful suggestion, exact restoration, Transformers models and Accelerate objects."""

from __future__ import annotations

import math
from typing import Any

import matplotlib
import numpy as np
import pytest
import torch

import hf_lr

matplotlib.use("Agg")

WEIGHTS = torch.tensor([1.0, -2.0, 0.5, 3.0])


def regression(seed: int = 0) -> tuple[torch.nn.Module, list[tuple[torch.Tensor, torch.Tensor]]]:
    torch.manual_seed(seed)
    x = torch.randn(512, 4)
    y = x @ WEIGHTS + 0.05 * torch.randn(512)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    return model, [(x[i : i + 32], y[i : i + 32]) for i in range(0, 512, 32)]


def mse(model: torch.nn.Module, batch: Any) -> torch.Tensor:
    return torch.nn.functional.mse_loss(model(batch[0]).squeeze(-1), batch[1])


def _train(model: torch.nn.Module, batches: list[Any], lr: float, steps: int) -> list[float]:
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = mse(model, batches[step % len(batches)])
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    return losses


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_training_at_the_suggestion_lowers_the_loss(seed: int) -> None:
    model, batches = regression(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    result = hf_lr.find_lr(model, optimizer, batches, start_lr=1e-6, end_lr=10, num_steps=80, loss_fn=mse)
    assert result.suggestion is not None and result.stopped_early
    assert min(result.lrs) <= result.suggestion <= max(result.lrs)
    fresh, _ = regression(seed)
    losses = _train(fresh, batches, result.suggestion, 300)
    assert np.mean(losses[-20:]) < 0.1 * np.mean(losses[:5]), (result.suggestion, losses[:5], losses[-5:])
    too_small, _ = regression(seed)
    assert np.mean(_train(too_small, batches, result.suggestion / 1e4, 300)[-20:]) > np.mean(losses[-20:])


def _state(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> tuple[Any, ...]:
    return (
        {k: v.clone() for k, v in model.state_dict().items()},
        {
            k: {n: t.clone() if torch.is_tensor(t) else t for n, t in v.items()}
            for k, v in optimizer.state_dict()["state"].items()
        },
        [{k: v for k, v in g.items() if k != "params"} for g in optimizer.state_dict()["param_groups"]],
        [m.training for m in model.modules()],
    )


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if torch.is_tensor(a):
        return torch.equal(a, b)
    return a == b


def test_model_optimizer_and_rng_are_restored_bit_for_bit() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Dropout(0.3), torch.nn.Linear(8, 1)
    )
    optimizer = torch.optim.AdamW(
        [{"params": model[0].parameters(), "lr": 1e-3}, {"params": model[3].parameters(), "lr": 2e-3}]
    )
    _, batches = regression()
    for batch in batches[:3]:  # optimizer state that must survive
        optimizer.zero_grad()
        mse(model, batch).backward()
        optimizer.step()
    model.eval()
    before, rng = _state(model, optimizer), torch.get_rng_state()
    grads = [p.grad.clone() for p in model.parameters()]
    hf_lr.find_lr(model, optimizer, batches, num_steps=30, end_lr=1.0, loss_fn=mse)
    assert _equal(_state(model, optimizer), before)
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads))


def test_training_after_the_test_is_identical_to_never_having_run_it() -> None:
    def run(with_test: bool) -> list[float]:
        model, batches = regression(3)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        scheduler = hf_lr.get_scheduler("cosine", optimizer, 5, 50)
        if with_test:
            hf_lr.find_lr(model, optimizer, batches, num_steps=20, loss_fn=mse)
        losses = []
        for step in range(50):
            optimizer.zero_grad()
            loss = mse(model, batches[step % len(batches)])
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(float(loss))
        return losses

    assert run(True) == run(False)


def test_group_ratios_are_kept_and_linear_mode() -> None:
    model, batches = regression()
    optimizer = torch.optim.SGD(
        [{"params": model[0].parameters(), "lr": 0.1}, {"params": model[2].parameters(), "lr": 0.01}]
    )
    seen: list[tuple[float, float]] = []

    def loss_fn(m: torch.nn.Module, batch: Any) -> torch.Tensor:
        seen.append(tuple(g["lr"] for g in optimizer.param_groups))  # type: ignore[arg-type]
        return mse(m, batch)

    result = hf_lr.find_lr(
        model,
        optimizer,
        batches,
        start_lr=1e-4,
        end_lr=1e-2,
        num_steps=5,
        mode="linear",
        loss_fn=loss_fn,
        diverge_threshold=1e9,
    )
    assert result.lrs == pytest.approx([1e-4, 2.575e-3, 5.05e-3, 7.525e-3, 1e-2])
    assert [b / a for a, b in seen] == pytest.approx([0.1] * 5)
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.01]


def test_transformers_model_with_gradient_accumulation() -> None:
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    model = BertForSequenceClassification(
        BertConfig(
            vocab_size=30,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=16,
            max_position_embeddings=16,
        )
    )
    ids = torch.randint(0, 30, (64, 8))
    labels = (ids[:, 0] > 15).long()
    batches = [{"input_ids": ids[i : i + 8], "labels": labels[i : i + 8]} for i in range(0, 64, 8)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    calls = {"n": 0}
    forward = model.forward

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return forward(*args, **kwargs)

    model.forward = counting  # type: ignore[method-assign]
    result = hf_lr.find_lr(
        model, optimizer, batches, num_steps=12, gradient_accumulation_steps=3, diverge_threshold=1e9
    )
    assert len(result.lrs) == 12 and calls["n"] == 36
    assert all(math.isfinite(loss) for loss in result.losses)


def test_accelerate_prepared_objects() -> None:
    from accelerate import Accelerator

    model, batches = regression()
    accelerator = Accelerator(cpu=True)
    loader = torch.utils.data.DataLoader(list(zip(*[torch.cat(t) for t in zip(*batches)])), batch_size=32)
    model, optimizer, loader = accelerator.prepare(model, torch.optim.SGD(model.parameters(), lr=0.01), loader)
    before = _state(model, optimizer)
    result = hf_lr.find_lr(model, optimizer, loader, num_steps=40, end_lr=10, loss_fn=mse, accelerator=accelerator)
    assert result.suggestion is not None
    assert _equal(_state(model, optimizer), before)


def test_divergence_and_non_finite_losses_stop_the_test() -> None:
    model, batches = regression()
    result = hf_lr.find_lr(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        batches,
        start_lr=1e-3,
        end_lr=1e6,
        num_steps=200,
        loss_fn=mse,
    )
    assert result.stopped_early and len(result.lrs) < 200
    assert all(math.isfinite(v) for v in result.losses + result.smoothed)


def test_suggestion_uses_the_learning_rate_spacing_and_ignores_early_spikes() -> None:
    def curve(lrs: np.ndarray) -> np.ndarray:  # falls fastest at lr = 1e-3, then diverges past 1e-1
        x = np.log10(lrs)
        return 1 / (1 + np.exp(4 * (x + 3))) + np.where(x > -1, 10 * (x + 1) ** 2, 0)

    even = np.logspace(-6, 0, 61)
    uneven = np.sort(np.concatenate([np.logspace(-6, -4, 60), np.logspace(-4, 0, 25)]))  # dense where nothing happens
    for lrs in (even, uneven):
        assert hf_lr.lr_finder.suggest_lr(lrs, curve(lrs)) == pytest.approx(1e-3, rel=0.35)
    spiky = curve(even).copy()
    spiky[2] += 5.0  # an early spike: its fall must not be taken for the steepest descent
    spiky[20] += 0.3
    assert hf_lr.lr_finder.suggest_lr(even, spiky) == pytest.approx(1e-3, rel=0.35)
    assert hf_lr.lr_finder.suggest_lr([1e-3, 1e-2], [1.0, 0.5]) is None


def test_plot_draws_the_curve_and_the_suggestion() -> None:
    model, batches = regression()
    result = hf_lr.find_lr(model, torch.optim.SGD(model.parameters(), lr=0.01), batches, num_steps=40, loss_fn=mse)
    ax = result.plot()
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "learning rate" and ax.get_ylabel() == "loss"
    assert len(ax.lines) == 3 and ax.lines[2].get_xdata()[0] == result.suggestion


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_lr": 0.0}, r"`start_lr` must be > 0\.0"),
        ({"end_lr": 1e-8}, r"`end_lr` must be > 1e-07"),
        ({"num_steps": 1}, r"`num_steps` must be >= 2"),
        ({"mode": "log"}, r"`mode` must be one of 'exponential', 'linear'"),
        ({"smoothing": 1.0}, r"`smoothing` must be < 1\.0"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    model, batches = regression()
    with pytest.raises(ValueError, match=message):
        hf_lr.find_lr(model, torch.optim.SGD(model.parameters(), lr=0.01), batches, loss_fn=mse, **kwargs)


def test_an_accelerator_that_accumulates_itself_is_refused_and_loaders_are_closed() -> None:
    from accelerate import Accelerator

    model, batches = regression()
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=2)
    with pytest.raises(ValueError, match="build the Accelerator with gradient_accumulation_steps=1"):
        hf_lr.find_lr(
            model, torch.optim.SGD(model.parameters(), lr=0.01), batches, loss_fn=mse, accelerator=accelerator
        )
    accelerator = Accelerator(cpu=True)
    loader = torch.utils.data.DataLoader(list(zip(*[torch.cat(t) for t in zip(*batches)])), batch_size=32)
    model, optimizer, loader = accelerator.prepare(model, torch.optim.SGD(model.parameters(), lr=0.01), loader)
    hf_lr.find_lr(model, optimizer, loader, num_steps=5, loss_fn=mse, accelerator=accelerator)  # stops mid-epoch
    # This loader no longer counts as running. (Not `in_dataloader`: the gradient state is process-wide, and before
    # Accelerate 1.4 it keeps strong references to loaders that other tests left mid-epoch.)
    assert loader not in accelerator.gradient_state.dataloader_references
