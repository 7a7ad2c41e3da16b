"""Real servers and a real Chromium for end-to-end tests.

Two app servers run for the whole test session, each started by the real
``serve`` command over a seeded SQLite file of its own: one without sign-in (the
local single-user mode) and one with OpenID Connect sign-in against the small
provider in ``oidc_provider.py``. Each runs in a folder of its own, which is
where Streamlit looks for ``.streamlit/secrets.toml``.

Locally the tests skip when Chromium is missing; CI sets ``REQUIRE_BROWSER`` so
that a missing browser fails instead of passing silently.
"""

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.browser.oidc_provider import IdentityProvider

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
STARTUP_SECONDS = 90
LOG_WAIT_SECONDS = 30

_OUTCOMES = pytest.StashKey[dict[str, str]]()

CLIENT_ID = "escalation-health"
CLIENT_SECRET = "browser-test-client-secret"
# The people of the signed-in server; roles as the [roles] section gives them.
ADMIN = ("ada@example.com", "Ada Admin")
EDITOR = ("edith@example.com", "Edith Editor")
VIEWER = ("vera@example.com", "Vera Viewer")


@dataclass(frozen=True)
class Served:
    """A running app: the address to open and the database it serves."""

    base: str
    database_url: str
    log: Path

    def log_text(self) -> str:
        """What the server has logged so far."""
        return self.log.read_text(errors="replace")

    def wait_for_log(self, seen: Callable[[str], bool]) -> None:
        """Wait until the server log satisfies ``seen``; fail with the log if never."""
        deadline = time.monotonic() + LOG_WAIT_SECONDS
        while not seen(self.log_text()):
            if time.monotonic() > deadline:
                pytest.fail(f"the server never logged it:\n{self.log_text()[-3000:]}")
            time.sleep(0.1)

    def rows(self, sql: str, **parameters: object) -> list[dict[str, Any]]:
        """The rows of a read-only query against the served database."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                result = connection.execute(sa.text(sql), parameters)
                return [dict(row) for row in result.mappings()]
        finally:
            engine.dispose()


def fixes_titled(server: Served, title: str) -> list[dict[str, Any]]:
    """The process fixes with this title, read straight from the database."""
    return server.rows(
        "SELECT id, title, author, trigger_type, root_cause, owner, due_at, "
        "expected_effect, status FROM process_fix WHERE title = :title",
        title=title,
    )


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
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the small demo history, seeded once per session."""
    path = tmp_path_factory.mktemp("seeded") / "demo.db"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard.cli",
            "seed",
            "--db",
            f"sqlite:///{path}",
            "--scale",
            "0.2",
        ],
        check=True,
        capture_output=True,
    )
    return path


def _copy_of(source: Path, folder: Path) -> str:
    """A private copy of a SQLite file in ``folder``; returns its URL."""
    target = folder / source.name
    # SQLite's backup API copies one consistent state, write-ahead log included.
    with (
        closing(sqlite3.connect(source)) as reading,
        closing(sqlite3.connect(target)) as writing,
    ):
        reading.backup(writing)
    return f"sqlite:///{target}"


@contextmanager
def _serving(folder: Path, database_url: str, port: int) -> Iterator[str]:
    """``escalation-health serve`` started in ``folder``; yields its address.

    Streamlit reads ``.streamlit/secrets.toml`` from the folder it starts in.
    """
    log_path = folder / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dashboard.cli",
                "serve",
                "--db",
                database_url,
                "--port",
                str(port),
            ],
            cwd=folder,
            # Streamlit also reads ~/.streamlit: a home of its own keeps a
            # developer's global secrets out of the app under test.
            env={**os.environ, "HOME": str(folder)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    pytest.fail(f"server exited: {log_path.read_text()}")
                try:
                    with urllib.request.urlopen(
                        f"{base}/_stcore/health", timeout=2
                    ) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    time.sleep(0.3)
            else:
                pytest.fail(f"server did not start: {log_path.read_text()}")
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, demo_database: Path
) -> Iterator[Served]:
    """The app in local single-user mode (no secrets) over a seeded SQLite file."""
    _require_browser()
    folder = tmp_path_factory.mktemp("served")
    url = _copy_of(demo_database, folder)
    with _serving(folder, url, _free_port()) as base:
        yield Served(base=base, database_url=url, log=folder / "server.log")


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[IdentityProvider]:
    """The OpenID Connect provider the signed-in server trusts."""
    provider = IdentityProvider(CLIENT_ID, CLIENT_SECRET)
    provider.start()
    yield provider
    provider.stop()


def secrets_toml(port: int, provider: IdentityProvider) -> str:
    """The app's secrets, laid out as README's "Sign-in and roles" shows them."""
    return f"""\
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "browser-tests-only-a-long-random-cookie-secret-4b1f7e"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "{provider.metadata_url}"

[roles]
admins = ["{ADMIN[0]}"]
editors = ["{EDITOR[0].upper()}"]  # listed in capitals: compared without case
default = "viewer"
"""


@pytest.fixture(scope="session")
def signed_in_server(
    tmp_path_factory: pytest.TempPathFactory,
    demo_database: Path,
    identity_provider: IdentityProvider,
) -> Iterator[Served]:
    """The app with sign-in turned on, started where its secrets file lies."""
    _require_browser()
    folder = tmp_path_factory.mktemp("served-with-sign-in")
    url = _copy_of(demo_database, folder)
    port = _free_port()
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "secrets.toml").write_text(
        secrets_toml(port, identity_provider)
    )
    with _serving(folder, url, port) as base:
        yield Served(base=base, database_url=url, log=folder / "server.log")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's outcome on the test, for fixtures to read afterwards."""
    report = yield
    item.stash.setdefault(_OUTCOMES, {})[report.when] = report.outcome
    return report


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh tab with cookies of its own, so every test is a new visitor.

    When the test fails, the tab is photographed as it was, for the CI artefacts.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    yield tab
    if request.node.stash.get(_OUTCOMES, {}).get("call") == "failed":
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
        tab.screenshot(path=str(screenshot_path(f"failed-{name}")), full_page=True)
    context.close()


def screenshot_path(name: str) -> Path:
    """Where a page's screenshot goes; kept as a CI artefact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return SCREENSHOTS / f"{name}-{stamp}.png"
