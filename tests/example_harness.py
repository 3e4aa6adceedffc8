"""Run an example script with a crash injected, the way a preempted job dies, without test hooks in the example.

    EXAMPLE_KILL_AFTER_UPDATE=N python tests/example_harness.py examples/finetune.py ARGS...
    EXAMPLE_KILL_AFTER_UPDATE=N accelerate launch ... tests/example_harness.py examples/finetune.py ARGS...

Every process sends itself SIGKILL when its hf_lr scheduler steps past optimizer update N, i.e. right after the
update's records are written and before anything that follows it (a checkpoint due at that update included).
"""

from __future__ import annotations

import os
import runpy
import signal
import sys

import hf_lr

_step = hf_lr.ScheduleLR.step


def _step_then_die_after_the_update(self: hf_lr.ScheduleLR, *args: object, **kwargs: object) -> None:
    _step(self, *args, **kwargs)
    if self.last_epoch == int(os.environ["EXAMPLE_KILL_AFTER_UPDATE"]):
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":  # (pytest imports every module under tests/ for doctests: nothing happens then)
    hf_lr.ScheduleLR.step = _step_then_die_after_the_update  # type: ignore[method-assign]
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
