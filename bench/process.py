"""Run a command in a process of its own and measure it as a whole."""

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from db.engine import PROJECT_ROOT
from seed_data.handover import FOLDER_PREFIX, parts_folder_parent

SAMPLE_SECONDS = 0.05


def run_process(
    command: Sequence[str],
    environment: dict[str, str],
    *,
    held_elsewhere: Callable[[], int] | None = None,
) -> tuple[str, float, float]:
    """Run ``command`` to the end; its output, wall seconds and peak memory (MB).

    The peak is the larger of two figures: ``os.wait4``'s peak resident memory
    of the child alone (exact), and the highest sum over the child and every
    process it started, sampled every 50 ms (a seed generates its history in
    a second process). ``held_elsewhere`` adds bytes the command keeps outside
    any process, such as files in a memory-backed folder, to each sample.
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
        sampler = _TreeMemory(child.pid, held_elsewhere)
        sampler.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            sampler.stop()
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
    return text, seconds, max(usage.ru_maxrss * 1024, sampler.peak) / 2**20


class _TreeMemory(threading.Thread):
    """Samples the resident memory of a process and its descendants, summed.

    Reads /proc, so on a system without it the peak stays 0 and the caller
    keeps the kernel's figure for the child alone.
    """

    def __init__(self, pid: int, held_elsewhere: Callable[[], int] | None) -> None:
        super().__init__(name="memory-sampler", daemon=True)
        self.pid = pid
        self.held_elsewhere = held_elsewhere
        self.peak = 0
        self._finished = threading.Event()

    def run(self) -> None:
        while not self._finished.wait(SAMPLE_SECONDS):
            total = sum(_resident_bytes(pid) for pid in _tree(self.pid))
            if self.held_elsewhere is not None:
                total += self.held_elsewhere()
            self.peak = max(self.peak, total)

    def stop(self) -> None:
        self._finished.set()
        self.join()


def parts_in_transit() -> int:
    """Bytes of history parts a seed has written for its loader and not yet read."""
    parent = Path(parts_folder_parent())
    total = 0
    for part in parent.glob(f"{FOLDER_PREFIX}*/*"):
        try:
            total += part.stat().st_size
        except OSError:  # read and removed meanwhile
            continue
    return total


def _tree(pid: int) -> list[int]:
    """``pid`` and every living descendant of it, as far as /proc tells."""
    found = [pid]
    for parent in found:
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            found.extend(int(child) for child in children)
    return found


def _resident_bytes(pid: int) -> int:
    """Resident memory of one process in bytes; 0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
