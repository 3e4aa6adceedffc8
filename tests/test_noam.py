"""Noam ("Attention Is All You Need", eq. 3): the paper's values, its three modes, and step 0."""

from __future__ import annotations

import pytest
from conftest import make_optimizer, trajectory

import hf_lr


def paper_lr(step_num: int, d_model: int, warmup_steps: int) -> float:
    """Eq. 3 as printed, with the paper's step_num counting from 1."""
    return d_model ** (-0.5) * min(step_num ** (-0.5), step_num * warmup_steps ** (-1.5))


@pytest.mark.parametrize("optimizer_lr", [1.0, 1e-3, 7.5])
def test_absolute_mode_reproduces_the_paper_whatever_the_optimizer_lr(optimizer_lr: float) -> None:
    lrs = trajectory(
        lambda o: hf_lr.get_noam_schedule(o, d_model=512, num_warmup_steps=40), 200, (optimizer_lr,), train=False
    )
    expected = [paper_lr(k + 1, 512, 40) for k in range(200)]
    assert [row[0] for row in lrs] == pytest.approx(expected, rel=1e-14)


def test_peak_is_at_the_warmup_th_update() -> None:
    lrs = [row[0] for row in trajectory(lambda o: hf_lr.get_noam_schedule(o, 512, 4000), 8000, train=False)]
    assert max(range(len(lrs)), key=lrs.__getitem__) == 3999
    assert lrs[3999] == pytest.approx(512**-0.5 * 4000**-0.5, rel=1e-14)  # about 6.99e-4


def test_step_zero_is_small_positive_and_finite() -> None:
    lrs = trajectory(lambda o: hf_lr.get_noam_schedule(o, 512, 4000), 1, train=False)
    assert lrs[0][0] == pytest.approx(512**-0.5 * 4000**-1.5, rel=1e-14)
    assert 0.0 < lrs[0][0] < 1e-6  # 1.75e-7, the peak divided by the warmup length


def test_peak_mode_makes_the_optimizer_lr_the_peak_and_keeps_group_ratios() -> None:
    lrs = trajectory(lambda o: hf_lr.get_noam_schedule(o, None, 10, mode="peak"), 40, (1e-3, 1e-4), train=False)
    assert lrs[9] == (1e-3, 1e-4)
    assert lrs[0] == pytest.approx((1e-4, 1e-5), rel=1e-14)
    assert lrs[39] == pytest.approx((1e-3 * (10 / 40) ** 0.5, 1e-4 * (10 / 40) ** 0.5), rel=1e-14)


def test_scale_mode_multiplies_the_optimizer_lr_and_equals_absolute_at_lr_one() -> None:
    scale = trajectory(
        lambda o: hf_lr.get_noam_schedule(o, 64, 10, factor=2.0, mode="scale"), 30, (1.0, 0.5), train=False
    )
    absolute = trajectory(lambda o: hf_lr.get_noam_schedule(o, 64, 10, factor=2.0), 30, (1.0, 0.5), train=False)
    assert [row[0] for row in scale] == [row[0] for row in absolute]
    assert [row[1] for row in scale] == pytest.approx([row[0] / 2 for row in absolute], rel=1e-15)
    # absolute: the reference group (defaults["lr"], the first) gets the paper's values; the others keep their ratio
    assert [row[1] for row in absolute] == pytest.approx([row[0] / 2 for row in absolute], rel=1e-14)


def test_noam_through_get_scheduler() -> None:
    scheduler = hf_lr.get_scheduler(
        "noam", make_optimizer((1.0,)), num_warmup_steps=4, scheduler_specific_kwargs={"d_model": 16}
    )
    assert scheduler.get_last_lr() == [pytest.approx(paper_lr(1, 16, 4), rel=1e-14)]
    with pytest.raises(ValueError, match="'noam' requires `num_warmup_steps`"):
        hf_lr.get_scheduler("noam", make_optimizer(), scheduler_specific_kwargs={"d_model": 16})
