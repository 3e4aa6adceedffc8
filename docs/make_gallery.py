"""Regenerate the gallery: one PNG per registered closed-form schedule, and a grid of them all.

    python docs/make_gallery.py [--output-dir docs/gallery] [--names linear cosine ...]

Each name is drawn for a 1000-update run with 100 warmup updates (where it has a warmup), with the parameters below,
through :func:`hf_lr.plot` (the same curves as :func:`hf_lr.lr_curve`). A test checks that every built-in closed-form
name has an entry here, so a new name gets a picture.
"""

from __future__ import annotations

import argparse
import math
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import hf_lr

T, W = 1000, 100

# name: (num_warmup_steps, num_training_steps, scheduler_specific_kwargs)
GALLERY: dict[str, tuple[int | None, int | None, dict[str, Any]]] = {
    "constant": (None, None, {}),
    "constant_with_warmup": (W, None, {}),
    "linear": (W, T, {}),
    "cosine": (W, T, {}),
    "cosine_with_restarts": (W, T, {"num_cycles": 3}),
    "polynomial": (W, T, {"lr_end": 0.05, "power": 2.0}),
    "inverse_sqrt": (W, None, {}),
    "cosine_with_min_lr": (W, T, {"min_lr_rate": 0.1}),
    "cosine_warmup_with_min_lr": (W, T, {"min_lr_rate": 0.1, "warmup_lr_rate": 0.1}),
    "warmup_stable_decay": (W, T, {"num_decay_steps": 200, "min_lr_ratio": 0.05}),
    "noam": (W, None, {"d_model": 64, "mode": "peak"}),
    "lambda": (None, None, {"lr_lambda": "0.5 ** (step // 250)"}),
    "exponential": (W, None, {"gamma": 0.997}),
    "step": (W, None, {"step_size": 250, "gamma": 0.5}),
    "multistep": (W, None, {"milestones": [400, 700, 850], "gamma": 0.4}),
    "cosine_annealing": (W, T, {"eta_min": 0.05}),
    "cosine_annealing_warm_restarts": (W, None, {"T_0": 100, "T_mult": 2, "eta_min": 0.05}),
    "one_cycle": (None, T, {"pct_start": 0.3}),
    "cyclic": (None, None, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 125, "mode": "triangular2"}),
    "polynomial_lr": (W, None, {"total_iters": 800, "power": 2.0}),
    "linear_lr": (None, None, {"start_factor": 0.25, "total_iters": 300}),
    "constant_lr": (None, None, {"factor": 0.5, "total_iters": 300}),
    "timm_cosine": (
        W,
        T,
        {"t_initial": 300, "cycle_limit": 3, "cycle_decay": 0.6, "lr_min": 0.05, "warmup_lr_init": 0.01},
    ),
    "tri_stage": (W, T, {"hold_steps": 300, "init_lr_scale": 0.05, "final_lr_scale": 0.02}),
    "warmup_hold_decay": (W, T, {"hold_steps": 300, "decay_type": "cosine", "min_lr_ratio": 0.05}),
    "deepspeed_warmup": (W, None, {"warmup_min_lr": 0.0}),
    "deepspeed_warmup_decay": (W, T, {"warmup_type": "log"}),
}


def draw(name: str, ax: Any) -> None:
    warmup, total, kwargs = GALLERY[name]
    described = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "lr_lambda")
    hf_lr.plot(
        (name, kwargs), num_steps=T + 100, num_warmup_steps=warmup, num_training_steps=total, ax=ax, labels=[name]
    )
    ax.set_title("\n".join([name, *textwrap.wrap(described, 48)]), fontsize=8.5)
    ax.get_legend().remove()
    ax.set_ylabel("lr (multiplier)")


def draw_extensions(path: Path) -> None:
    """Extending and ending runs: a cosine sized for 1000 updates, stretched to 1600 at update 600, re-warmed at
    its end to run until 1600, and an open-ended warmup-stable schedule whose cooldown starts at update 1200."""
    import torch

    def curve(make: Any, change: Any, at: int, steps: int = 1700) -> Any:
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        scheduler = make(optimizer)
        for _ in range(at):
            optimizer.step()
            scheduler.step()
        if change is not None:
            change(scheduler)
        return hf_lr.lr_curve(scheduler, steps)

    cosine = lambda o: hf_lr.get_scheduler("cosine_with_min_lr", o, W, T, {"min_lr_rate": 0.05})  # noqa: E731
    wsd = lambda o: hf_lr.get_scheduler(  # noqa: E731
        "warmup_stable_decay", o, W, None, {"num_decay_steps": 300, "decay_type": "1-sqrt", "min_lr_ratio": 0.05}
    )
    figure, ax = plt.subplots(figsize=(9.5, 3.4))
    ax.plot(curve(cosine, None, 0), "k--", lw=1, label="cosine_with_min_lr, sized 1000")
    ax.plot(curve(cosine, lambda s: s.extend(1600), 600), label="extend(1600) at update 600 (stretch)")
    ax.plot(
        curve(cosine, lambda s: s.extend(1600, "rewarm", num_warmup_steps=100, peak=0.6), 1000),
        label="extend(1600, 'rewarm') at 1000",
    )
    ax.plot(curve(wsd, lambda s: s.start_decay(), 1200), label="open-ended WSD, start_decay() at 1200")
    for x in (600, 1000, 1200):
        ax.axvline(x, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("optimizer update")
    ax.set_ylabel("lr (multiplier)")
    ax.set_title("Extending a run, and open-ended training", fontsize=10)
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=str(Path(__file__).parent / "gallery"))
    parser.add_argument("--names", nargs="*", help="only these names (default: all)")
    args = parser.parse_args(argv)
    names = args.names or list(GALLERY)
    unknown = sorted(set(names) - set(GALLERY))
    if unknown:
        parser.error(f"no gallery entry for {unknown}")
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    for name in names:
        figure, ax = plt.subplots(figsize=(5, 3))
        draw(name, ax)
        figure.tight_layout()
        figure.savefig(output / f"{name}.png", dpi=80)
        plt.close(figure)
    if not args.names:
        columns = 4
        rows = math.ceil(len(names) / columns)
        figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 2.9 * rows))
        for ax, name in zip(axes.ravel(), names):
            draw(name, ax)
        for ax in axes.ravel()[len(names) :]:
            ax.axis("off")
        figure.tight_layout()
        figure.savefig(output / "all.png", dpi=70)
        plt.close(figure)
        draw_extensions(output / "extension.png")
    print(f"wrote {len(names)} pictures to {output}")


if __name__ == "__main__":
    main()
