"""Run a command in a process of its own and measure it as a whole."""

import os
import subprocess
import tempfile
import time
from collections.abc import Sequence

from db.engine import PROJECT_ROOT


def run_process(
    command: Sequence[str], environment: dict[str, str]
) -> tuple[str, float, float]:
    """Run ``command`` to the end; its output, wall seconds and peak memory (MB).

    ``os.wait4`` reports the peak resident memory of exactly this child.
    """
    with (
        tempfile.TemporaryFile() as output,
        tempfile.TemporaryFile() as errors,
    ):
        started = time.perf_counter()
        child = subprocess.Popen(
            list(command),
            stdout=output,
            stderr=errors,
            env=environment,
            cwd=PROJECT_ROOT,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        errors.seek(0)
        text = output.read().decode(errors="replace")
        if child.returncode != 0:
            detail = errors.read().decode(errors="replace").strip()[-2000:]
            message = f"{' '.join(command[:4])} failed ({child.returncode}):\n{detail}"
            raise RuntimeError(message)
    # ru_maxrss is in kilobytes on Linux.
    return text, seconds, usage.ru_maxrss / 1024
