"""run_process's peak memory: one process, and a process with a helper."""

import os
import sys
from pathlib import Path

from bench.process import run_process

MB = 2**20

# Holds ``own`` MB itself while a spawned helper holds ``helper`` MB; both
# hold on long enough for several samples.
SCRIPT = """
import multiprocessing, sys, time

def hold(size):
    block = bytearray(size)
    block[::4096] = b"x" * len(block[::4096])
    time.sleep(1.0)

if __name__ == "__main__":
    own, helper = int(sys.argv[1]), int(sys.argv[2])
    child = multiprocessing.get_context("spawn").Process(target=hold, args=(helper,))
    child.start()
    block = bytearray(own)
    block[::4096] = b"x" * len(block[::4096])
    child.join()
    print("done")
"""


def peak_of(tmp_path: Path, own_mb: int, helper_mb: int, extra: int = 0) -> float:
    script = tmp_path / "hold.py"
    script.write_text(SCRIPT)
    output, _, peak = run_process(
        [sys.executable, str(script), str(own_mb * MB), str(helper_mb * MB)],
        dict(os.environ),
        held_elsewhere=lambda: extra,
    )
    assert output.strip() == "done"
    return peak


# Each of the three processes (the script, its helper and the resource
# tracker that spawning starts) holds 10 to 50 MB for the interpreter alone.
BARE_LOW, BARE_HIGH = 30, 150


def test_the_peak_sums_a_process_and_its_helper(tmp_path: Path) -> None:
    peak = peak_of(tmp_path, own_mb=120, helper_mb=200)

    # The larger process alone would be about 210 MB.
    assert 320 + BARE_LOW < peak < 320 + BARE_HIGH


def test_memory_held_outside_the_processes_is_added(tmp_path: Path) -> None:
    peak = peak_of(tmp_path, own_mb=0, helper_mb=0, extra=500 * MB)

    assert 500 + BARE_LOW < peak < 500 + BARE_HIGH
