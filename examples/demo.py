"""Print a few hf_lr schedules side by side, and check them against Transformers when it is installed.

python examples/demo.py [--num-training-steps 100] [--num-warmup-steps 10] [--lr 1e-3]
"""

from __future__ import annotations

import argparse
import warnings

import torch

import hf_lr

SCHEDULES = {
    "linear": {},
    "cosine": {},
    "cosine_with_restarts": {"num_cycles": 3},
    "polynomial": {"lr_end": 1e-5, "power": 2.0},
    "warmup_stable_decay": {"num_decay_steps": 20},
    "noam": {"d_model": 512, "mode": "peak"},
}


def trajectory(module: object, name: str, kwargs: dict, lr: float, warmup: int, total: int) -> list[float]:
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = module.get_scheduler(name, optimizer, warmup, total, dict(kwargs))  # type: ignore[attr-defined]
    lrs = []
    for _ in range(total + 1):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        scheduler.step()
    return lrs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-training-steps", type=int, default=100)
    parser.add_argument("--num-warmup-steps", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    total, warmup = args.num_training_steps, args.num_warmup_steps
    curves = {name: trajectory(hf_lr, name, kw, args.lr, warmup, total) for name, kw in SCHEDULES.items()}
    steps = sorted({0, warmup // 2, warmup, total // 4, total // 2, 3 * total // 4, total - 1, total})
    print(f"learning rate at chosen updates (lr={args.lr}, warmup={warmup}, total={total})")
    print("step".rjust(6) + "".join(name[:20].rjust(22) for name in curves))
    for step in steps:
        print(str(step).rjust(6) + "".join(f"{curves[name][step]:22.4e}" for name in curves))
    try:
        import transformers.optimization as reference
    except ImportError:
        print("\ntransformers is not installed: no comparison")
        return
    print("\nmax |hf_lr - transformers| over the whole trajectory:")
    for name, kwargs in SCHEDULES.items():
        if name == "noam":
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = trajectory(reference, name, kwargs, args.lr, warmup, total)
        difference = max(abs(a - b) for a, b in zip(curves[name], theirs))
        print(f"  {name:22s} {difference:.1e}")


if __name__ == "__main__":
    main()
