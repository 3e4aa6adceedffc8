"""Plots, the hf-lr command line (as subprocesses, bad input included), and the gallery's coverage."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

import hf_lr

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]


def _curves(ax: object) -> dict[str, np.ndarray]:
    return {
        line.get_label(): np.asarray(line.get_ydata())
        for line in ax.get_lines()
        if not line.get_label().startswith("_")
    }  # type: ignore[attr-defined]


def test_plot_draws_lr_curve_with_phases_marked() -> None:
    ax = hf_lr.plot(
        "linear",
        ("cosine_with_restarts", {"num_cycles": 3}),
        num_warmup_steps=100,
        num_training_steps=1000,
        base_lr=3e-4,
    )
    curves = _curves(ax)
    np.testing.assert_array_equal(
        curves["linear"], hf_lr.lr_curve("linear", 1101, base_lr=3e-4, num_warmup_steps=100, num_training_steps=1000)
    )
    np.testing.assert_array_equal(
        curves["cosine_with_restarts num_cycles=3"],
        hf_lr.lr_curve(
            "cosine_with_restarts", 1101, base_lr=3e-4, num_warmup_steps=100, num_training_steps=1000, num_cycles=3
        ),
    )
    marks = sorted({float(line.get_xdata()[0]) for line in ax.get_lines() if line.get_linestyle() == ":"})
    assert marks == [100.0, 400.0, 700.0, 1000.0]  # warmup end, two restarts, the end
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("optimizer update", "learning rate")
    plt.close("all")


def test_plot_a_scheduler_draws_every_group_and_a_schedule_times_base_lr() -> None:
    optimizer = torch.optim.SGD(
        [
            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 1e-3},
            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 1e-4},
        ]
    )
    scheduler = hf_lr.get_scheduler("polynomial", optimizer, 10, 100, {"lr_end": 1e-5})
    ax = hf_lr.plot(
        scheduler, hf_lr.equivalents.CosineAnnealing(T_max=50), num_steps=120, base_lr=2.0, log=True, title="t"
    )
    curves = _curves(ax)
    expected = hf_lr.lr_curve(scheduler, 120)
    np.testing.assert_array_equal(curves["polynomial (group 0)"], expected[:, 0])
    np.testing.assert_array_equal(curves["polynomial (group 1)"], expected[:, 1])
    np.testing.assert_array_equal(
        curves["CosineAnnealing"], 2.0 * hf_lr.equivalents.CosineAnnealing(T_max=50).values(np.arange(120))
    )
    assert ax.get_yscale() == "log" and ax.get_title() == "t"
    plt.close("all")


def test_plot_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match="plot\\(\\) draws schedule names"):
        hf_lr.plot(42)
    with pytest.raises(ValueError, match="one label per schedule: expected 1, got 2"):
        hf_lr.plot("linear", num_training_steps=10, num_warmup_steps=0, labels=["a", "b"])
    with pytest.raises(ValueError, match="unknown schedule name 'linar'"):
        hf_lr.plot("linar", num_training_steps=10)


def hf_lr_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hf_lr", *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("hf-lr")
    result = subprocess.run([str(script), "list"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "noam" in result.stdout


def test_list_names_every_schedule_with_description_and_parameters() -> None:
    result = hf_lr_cli("list", "--verbose")
    assert result.returncode == 0, result.stderr
    # Built-in names: other test modules register names in this process, which the command's process does not know.
    for name in (n for n in hf_lr.list_schedules() if hf_lr.get_schedule_entry(n).source == "builtin"):
        assert re.search(rf"^{name}\s+\S", result.stdout, re.MULTILINE), name
    assert "parameters: num_warmup_steps, num_training_steps, num_cycles=0.5" in result.stdout
    assert "[metric-driven]" in result.stdout


def test_show_prints_the_values_a_terminal_plot_and_the_difference_from_transformers() -> None:
    result = hf_lr_cli(
        "show",
        "cosine",
        "--num-training-steps",
        "200",
        "--num-warmup-steps",
        "20",
        "--lr",
        "3e-4",
        "--steps",
        "0,10,20,150,200",
    )
    assert result.returncode == 0, result.stderr
    expected = hf_lr.lr_curve("cosine", 201, base_lr=3e-4, num_warmup_steps=20, num_training_steps=200)
    rows = dict(re.findall(r"^\s+(\d+)\s+([0-9.e+-]+)$", result.stdout, re.MULTILINE))
    assert {int(k): float(v) for k, v in rows.items()} == pytest.approx(
        {k: expected[k] for k in (0, 10, 20, 150, 200)}, rel=1e-6
    )
    assert result.stdout.count("|") >= 2 * 14  # the terminal plot's rows
    # 0, or a few units in the last place where NumPy's vector cos rounds differently from math.cos (NumPy 1.22)
    difference = re.search(r"max \|hf_lr - transformers\| over 201 updates: (\S+)", result.stdout)
    assert difference is not None and float(difference.group(1)) < 1e-18
    noam = hf_lr_cli("show", "noam", "--num-warmup-steps", "10", "--kwargs", '{"d_model": 64}', "--no-plot")
    assert noam.returncode == 0 and "Transformers has no closed-form schedule named 'noam'" in noam.stdout


def test_plot_writes_an_image(tmp_path: Path) -> None:
    output = tmp_path / "curve.png"
    result = hf_lr_cli(
        "plot",
        "linear",
        'cosine_with_restarts:{"num_cycles": 2}',
        "--num-training-steps",
        "300",
        "--num-warmup-steps",
        "30",
        "-o",
        str(output),
        "--log",
    )
    assert result.returncode == 0, result.stderr
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and output.stat().st_size > 5000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "cosin", "--num-training-steps", "10"], "unknown schedule name 'cosin'. Did you mean 'cosine'"),
        (["show", "cosine", "--num-training-steps", "10", "--kwargs", "{bad"], "--kwargs must be a JSON object"),
        (
            ["show", "cosine", "--num-training-steps", "10", "--kwargs", '{"num_cycle": 2}'],
            "unknown argument(s) 'num_cycle'",
        ),
        (["show", "cosine", "--num-training-steps", "10"], "requires `num_warmup_steps`"),
        (
            ["show", "linear", "--num-training-steps", "0", "--num-warmup-steps", "0"],
            "--num-training-steps must be >= 1, got 0",
        ),
        (
            ["show", "linear", "--num-training-steps", "10", "--num-warmup-steps", "0", "--steps", "3,99"],
            "--steps must lie in [0, 10], got [99]",
        ),
        (
            ["show", "linear", "--num-training-steps", "10", "--num-warmup-steps", "0", "--lr", "nan"],
            "--lr must be a finite number > 0",
        ),
        (
            ["show", "linear", "--num-training-steps", "10", "--num-warmup-steps", "20"],
            "`num_warmup_steps` must be <= `num_training_steps`",
        ),
        (["show", "reduce_lr_on_plateau", "--num-training-steps", "10"], "driven by a metric"),
        (
            ["plot", "linear", "--num-training-steps", "10", "--num-warmup-steps", "0", "-o", "/nonexistent/dir/x.png"],
            "cannot write '/nonexistent/dir/x.png'",
        ),
        (
            ["plot", "linear:[1]", "--num-training-steps", "10", "--num-warmup-steps", "0", "-o", "x.png"],
            "the parameters of linear must be a JSON object",
        ),
        (
            ["show", "lambda", "--num-training-steps", "10", "--kwargs", '{"lr_lambda": "step.__class__"}'],
            "Attribute is not allowed",
        ),
    ],
)
def test_user_mistakes_are_one_line_and_exit_status_2(args: list[str], message: str) -> None:
    result = hf_lr_cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hf-lr: error: ") and message in lines[0], result.stderr


def _gallery() -> object:
    spec = importlib.util.spec_from_file_location("make_gallery", ROOT / "docs" / "make_gallery.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_gallery_has_every_builtin_closed_form_name_and_renders(tmp_path: Path) -> None:
    gallery = _gallery()
    builtin = {
        n
        for n in hf_lr.list_schedules()
        if hf_lr.get_schedule_entry(n).closed_form and hf_lr.get_schedule_entry(n).source == "builtin"
    }
    assert set(gallery.GALLERY) == builtin  # type: ignore[attr-defined]
    gallery.main(["--output-dir", str(tmp_path), "--names", "linear", "one_cycle"])  # type: ignore[attr-defined]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["linear.png", "one_cycle.png"]
    assert all((ROOT / "docs" / "gallery" / f"{name}.png").exists() for name in builtin)  # committed pictures
