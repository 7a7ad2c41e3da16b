"""A real server and a real Chromium for end-to-end tests.

Locally the tests skip when Chromium is missing; CI sets ``REQUIRE_BROWSER`` so
that a missing browser fails instead of passing silently.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
STARTUP_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    reason = f"Chromium not found at {CHROMIUM}; install Debian's chromium package"
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``escalation-health serve`` on a free port over a seeded SQLite file."""
    _require_browser()
    folder = tmp_path_factory.mktemp("served")
    url = f"sqlite:///{folder / 'demo.db'}"
    cli = [sys.executable, "-m", "dashboard.cli"]
    subprocess.run(
        [*cli, "seed", "--db", url, "--scale", "0.2"], check=True, capture_output=True
    )
    port = _free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [*cli, "serve", "--db", url, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.terminate()
        pytest.fail(f"server did not start: {(folder / 'server.log').read_text()}")
    yield base
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright."""
    _require_browser()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--disable-background-networking", "--disable-component-update"],
        )
        yield instance
        instance.close()


def screenshot_path(name: str) -> Path:
    """Where a page's screenshot goes; kept as a CI artefact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return SCREENSHOTS / f"{name}-{stamp}.png"
