"""Launch plumbing: one-line flag errors, multi-process launch checks, one run per output directory, workers that
stop with their launcher, and an orderly shutdown.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("examples")

LOCK_NAME = "run.lock"
WATCHDOG_POLL_SECONDS = 0.5
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


# --------------------------------------------------------------------------------------------------------------------
# Flags
# --------------------------------------------------------------------------------------------------------------------
def flag_error(prog: str, message: str) -> NoReturn:
    """A user mistake: one line on stderr (no usage block, no traceback) and exit status 2, as argparse's."""
    sys.stderr.write(f"{prog}: error: {' '.join(message.split())}\n")
    raise SystemExit(2)


class OneLineErrors:
    """An argparse mix-in: flag errors through :func:`flag_error`, also those found after parsing (``parser.error``)."""

    prog: str

    def error(self, message: str) -> NoReturn:
        flag_error(self.prog, message)


class OneLineErrorParser(OneLineErrors, argparse.ArgumentParser):
    pass


def json_object(text: str) -> dict[str, Any]:
    """An argparse type: a JSON object (the schedule's parameters)."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not JSON ({error}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, got {text!r}")
    return value


def fraction(text: str) -> float:
    """An argparse type: a number in [0, 1]."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--expected_num_processes",
        type=int,
        default=None,
        help="Refuse to run unless exactly this many processes take part (guards against launch mistakes).",
    )


def check_at_least_one(parser: argparse.ArgumentParser, args: argparse.Namespace, *names: str) -> None:
    """Refuse an integer flag below 1 (flags left unset, None, are fine)."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} must be >= 1, got {value}")


# --------------------------------------------------------------------------------------------------------------------
# Multi-process launch checks: make a multi-process launch a real one, or refuse
# --------------------------------------------------------------------------------------------------------------------
def launcher_world_size() -> int:
    """The world size a torchrun-style launcher announced (1 when launched as a single process)."""
    for key in ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE"):
        if os.environ.get(key, "").isdigit():
            return int(os.environ[key])
    return 1


def launcher_rank() -> int:
    """This process's global rank as the launcher announced it, before any process group exists (0 if none)."""
    return int(os.environ.get("RANK", "0"))


def accelerator_device_available() -> bool:
    import torch

    accelerator_api = getattr(torch, "accelerator", None)
    if accelerator_api is not None and hasattr(accelerator_api, "is_available"):
        return bool(accelerator_api.is_available())
    return torch.cuda.is_available()


def requested_processes_from_parent() -> int | None:
    """`--num_processes N` of an `accelerate launch` parent process, if there is one (best effort)."""
    try:
        import psutil  # a dependency of accelerate

        cmdline = psutil.Process(os.getppid()).cmdline()
    except Exception:  # no psutil, no permission, parent gone: nothing to check against
        return None
    text = " ".join(cmdline)
    # `accelerate launch ...` or `python -m accelerate.commands.launch ...`
    if "accelerate" not in text or not any(part == "launch" or part.endswith(".launch") for part in cmdline):
        return None
    match = re.search(r"--num[_-]processes[= ](\d+)", text)
    return int(match.group(1)) if match else None


def use_cpu_for_launch() -> bool:
    """Whether the Accelerator must be told `cpu=True` for this launch to become a real multi-process run.

    `accelerate launch --multi_gpu --num_processes N` on a machine without GPUs starts N processes through torchrun,
    but Accelerate only initialises the process group on CPU when told to use the CPU; otherwise every process
    believes it is rank 0 of 1 and they all train the same model on the same data.
    """
    world = launcher_world_size()
    if world > 1 and not accelerator_device_available():
        if os.environ.get("ACCELERATE_USE_CPU", "").lower() not in ("1", "true", "yes"):
            logger.warning(
                "launched as %d processes on a machine without GPUs: using the CPU (gloo) so that they form one "
                "training run (ACCELERATE_USE_CPU=1 does this explicitly)",
                world,
            )
        return True
    return False


def check_world(num_processes: int, expected: int | None) -> None:
    """Refuse launches that would silently duplicate training or run fewer processes than asked for."""
    world = launcher_world_size()
    problems = []
    if world != num_processes:
        problems.append(
            f"the launcher started {world} processes but Accelerate sees {num_processes}: each would train alone "
            "(duplicated training)"
        )
    requested = requested_processes_from_parent()
    if requested is not None and requested != num_processes:
        problems.append(
            f"`accelerate launch` was asked for --num_processes {requested} but this run has {num_processes} "
            "process(es). On a CPU-only machine, `accelerate launch --cpu --num_processes N` starts a single process; "
            "use `ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes N ...` for a real N-process run"
        )
    if expected is not None and expected != num_processes:
        problems.append(f"--expected_num_processes {expected} but this run has {num_processes}")
    if problems:
        raise SystemExit("refusing to train: " + "; ".join(problems))


# --------------------------------------------------------------------------------------------------------------------
# One run per output directory, and workers that stop with their launcher
# --------------------------------------------------------------------------------------------------------------------
def lock_output_dir(output_dir: Path, prog: str) -> Any:
    """Hold ``OUTPUT_DIR/run.lock`` until this process ends, or refuse: another live run writes there.

    The lock is the operating system's (``flock``), so it dies with its owner whatever the way it dies; the file
    records the owner (pid, host, start time) for the refusal message. A record left by an owner that is gone (a
    killed run never gets to clear it) is a stale lock: reported, then taken over.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / LOCK_NAME
    handle = open(path, "a+")  # noqa: SIM115  (held open for the life of the run); "a+": never truncated unlocked
    if fcntl is None:
        logger.warning("no file locking on this platform: nothing stops a second run from writing into %s", output_dir)
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise SystemExit(
            f"{prog}: error: --output_dir {output_dir} is in use by a running job ({owner}; lock {path}); a second run "
            "would overwrite its checkpoints. Wait for it to end, stop it, or choose another --output_dir"
        ) from None
    handle.seek(0)
    previous = handle.read().strip()
    if previous:
        sys.stderr.write(f"{prog}: {path}: stale lock of a run that is gone ({previous}); taking it over\n")
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid={os.getpid()} host={socket.gethostname()} started={time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
    handle.flush()
    return handle


def release_output_dir(handle: Any) -> None:
    """Clear the owner record (a run that ends normally leaves no stale lock) and drop the lock."""
    handle.seek(0)
    handle.truncate()
    handle.close()


def exit_when_launcher_dies() -> None:
    """A worker started by torchrun (``accelerate launch`` with several processes) exits when its launcher dies.

    torchrun starts each worker in a session of its own, so killing the launcher's process group (a job scheduler
    ending the step, ``kill -- -PGID``) leaves the workers training and writing checkpoints with nobody watching, or
    stuck for ever in a collective whose peer is gone. On Linux the kernel sends this worker SIGKILL when its parent,
    the launcher, dies (``prctl(PR_SET_PDEATHSIG)``): that works even while the worker is blocked in C++ holding the
    GIL, where no Python thread would ever run again. Elsewhere a daemon thread polls the parent pid.
    """
    if "TORCHELASTIC_RUN_ID" not in os.environ:  # not a torchrun worker: its parent is a shell or a debugger
        return
    launcher = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0:
            if os.getppid() != launcher:  # it died between the two calls: the kernel will not tell us
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == launcher:
            time.sleep(WATCHDOG_POLL_SECONDS)
        sys.stderr.write(f"rank {launcher_rank()}: the launcher (pid {launcher}) is gone; stopping\n")
        sys.stderr.flush()
        os._exit(1)

    threading.Thread(target=watch, name="launcher-watchdog", daemon=True).start()


@contextlib.contextmanager
def guard(output_dir: Path, prog: str) -> Iterator[None]:
    """One run per output directory (the lock, on rank 0) and workers that stop with their launcher."""
    exit_when_launcher_dies()
    handle = lock_output_dir(output_dir, prog) if launcher_rank() == 0 else None
    try:
        yield
    finally:
        if handle is not None:
            release_output_dir(handle)


# --------------------------------------------------------------------------------------------------------------------
# Shutdown
# --------------------------------------------------------------------------------------------------------------------
def destroy_process_group() -> None:
    import torch

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


@contextlib.contextmanager
def shutdown_on_exit(accelerator: Any) -> Iterator[None]:
    """An orderly shutdown once the run is done, and no barrier after a failure.

    Without the orderly shutdown a rank sometimes aborts at exit ("terminate called without an active exception")
    while the interpreter tears the process group down; dropping the Accelerator's references (the DDP model holds
    the process group) lets the group really be destroyed here. A failing rank must not wait at a barrier (the others
    may be blocked in a collective): it releases what is local and leaves; the launcher stops the other ranks.
    """
    try:
        yield
    except BaseException:
        accelerator.end_training()
        destroy_process_group()
        raise
    accelerator.wait_for_everyone()
    accelerator.end_training()
    accelerator.free_memory()
    destroy_process_group()


def exit_now_if_distributed(code: int = 0) -> None:
    """Leave a multi-process run without interpreter teardown, once everything is written and closed.

    Even after the orderly shutdown, a rank of a gloo run was seen to abort at exit with ``terminate called without
    an active exception`` (1 run in about 100 on torch 2.13): a C++ background thread racing with Python's
    finalisation. Nothing is left to flush at this point, so a launched worker skips the teardown.
    """
    if launcher_world_size() > 1:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
