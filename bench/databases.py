"""Seeded benchmark databases, kept in a work folder and reused across runs.

Seeding a million escalations takes about a minute on SQLite and a minute and a
half on PostgreSQL, so each seeded database is recorded in a manifest with its
seed, scale and history end; a later run with the same seed and scale reuses it.
"""

import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bench.process import parts_in_transit, run_process
from db.engine import PROJECT_ROOT, create_db_engine, normalise_url
from db.migrate import upgrade

log = logging.getLogger(__name__)

DEFAULT_WORK_DIR = PROJECT_ROOT / "data" / "bench"
MANIFEST = "manifest.json"
SQLITE = "sqlite"
POSTGRES = "postgres"
BACKENDS = (SQLITE, POSTGRES)
POSTGRES_URL_ENV = ("BENCH_POSTGRES_URL", "TEST_POSTGRES_URL")
DATABASE_PREFIX = "escalation_health_bench"


@dataclass(frozen=True)
class BenchDatabase:
    """One seeded database: where it is and what was written into it."""

    backend: str
    url: str
    seed: int
    scale: float
    history_end: str
    counts: dict[str, int]
    seed_seconds: float | None = None
    seed_peak_mb: float | None = None

    @property
    def escalations(self) -> int:
        """How many escalations the seed wrote."""
        return int(self.counts.get("escalation", 0))

    @property
    def end_day(self) -> date:
        """The day the seeded history ends (exclusive)."""
        return date.fromisoformat(self.history_end)


def postgres_server_url() -> str | None:
    """The PostgreSQL server the bench creates its databases on, if one is set."""
    for name in POSTGRES_URL_ENV:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _scale_label(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


def _database_name(seed: int, scale: float, tag: str) -> str:
    middle = f"_{tag}" if tag else ""
    return f"{DATABASE_PREFIX}{middle}_s{seed}_x{_scale_label(scale)}"


def database_url(
    backend: str,
    *,
    seed: int,
    scale: float,
    work_dir: Path,
    server_url: str | None = None,
    tag: str = "",
) -> str:
    """The URL the bench database for ``backend``, seed and scale lives at.

    ``tag`` goes into the name, so that runs side by side keep apart.
    """
    name = _database_name(seed, scale, tag)
    if backend == SQLITE:
        return f"sqlite:///{work_dir / (name + '.db')}"
    if server_url is None:
        message = (
            "PostgreSQL needs a server: set BENCH_POSTGRES_URL or TEST_POSTGRES_URL, "
            "or pass --postgres-url"
        )
        raise ValueError(message)
    return str(
        make_url(normalise_url(server_url))
        .set(database=name)
        .render_as_string(hide_password=False)
    )


def _read_manifest(work_dir: Path) -> dict[str, Any]:
    path = work_dir / MANIFEST
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("Ignoring the unreadable bench manifest %s: %s", path, error)
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _write_manifest(work_dir: Path, manifest: dict[str, Any]) -> None:
    path = work_dir / MANIFEST
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")
    os.replace(temporary, path)


def _manifest_key(url: str) -> str:
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def drop_database(backend: str, url: str, *, create: bool = False) -> None:
    """Drop the bench database at ``url``; with ``create``, leave an empty one."""
    if backend == SQLITE:
        database = make_url(url).database
        assert database is not None
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)
        return
    parsed = make_url(normalise_url(url))
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            name = parsed.database
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _escalation_count(engine: Engine) -> int | None:
    """Escalations stored, or None when the database is missing or unusable."""
    try:
        with engine.connect() as connection:
            value = connection.execute(text("SELECT count(*) FROM escalation"))
            return int(value.scalar_one())
    except Exception:  # any failure means "seed it again"
        return None


def ensure_database(
    backend: str,
    *,
    seed: int,
    scale: float,
    work_dir: Path = DEFAULT_WORK_DIR,
    server_url: str | None = None,
    tag: str = "",
    echo: Callable[[str], None] | None = None,
) -> BenchDatabase:
    """Return the seeded database for ``backend``, seeding it when needed.

    A database is reused when the manifest records the same seed and scale and
    the database still holds the escalations the seed wrote.
    """

    work_dir.mkdir(parents=True, exist_ok=True)
    url = database_url(
        backend,
        seed=seed,
        scale=scale,
        work_dir=work_dir,
        server_url=server_url,
        tag=tag,
    )
    key = _manifest_key(url)
    manifest = _read_manifest(work_dir)
    recorded = manifest.get(key)
    if recorded and recorded.get("seed") == seed and recorded.get("scale") == scale:
        engine = create_db_engine(url)
        try:
            stored = _escalation_count(engine)
        finally:
            engine.dispose()
        if stored == recorded["counts"].get("escalation"):
            return BenchDatabase(
                backend=backend,
                url=url,
                seed=seed,
                scale=scale,
                history_end=recorded["history_end"],
                counts=recorded["counts"],
            )

    if echo is not None:
        echo(f"Seeding {key} (seed {seed}, scale {scale:g})...")
    drop_database(backend, url, create=True)
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # A process of its own, like ``escalation-health seed``: the seed's peak
    # memory (gigabytes at a million escalations) would otherwise stay in this
    # process, and every measuring child forked from it would start with it.
    request = {"url": url, "seed": seed, "scale": scale, "end": end.isoformat()}
    command = [sys.executable, "-m", "bench.databases", json.dumps(request)]
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    output, seconds, peak_mb = run_process(
        command, environment, held_elsewhere=parts_in_transit
    )
    counts = json.loads(output.strip().splitlines()[-1])
    if echo is not None:
        echo(f"  seeded in {seconds:.1f} s, peak memory {peak_mb:,.0f} MB")
    database = BenchDatabase(
        backend=backend,
        url=url,
        seed=seed,
        scale=scale,
        history_end=end.date().isoformat(),
        counts=counts,
        seed_seconds=seconds,
        seed_peak_mb=peak_mb,
    )
    manifest = _read_manifest(work_dir)
    recorded_fields = asdict(database)
    del recorded_fields["url"], recorded_fields["seed_seconds"]
    del recorded_fields["seed_peak_mb"]
    manifest[key] = recorded_fields
    _write_manifest(work_dir, manifest)
    return database


def _seed_main(raw: str) -> int:
    """The child's side of seeding: migrate, seed, print the counts as JSON."""
    from seed_data.load import seed_database  # noqa: PLC0415  (numpy is slow to import)

    request = json.loads(raw)
    engine = create_db_engine(request["url"])
    try:
        upgrade(engine)
        counts = seed_database(
            engine,
            seed=request["seed"],
            scale=request["scale"],
            end=datetime.fromisoformat(request["end"]),
        )
    finally:
        engine.dispose()
    sys.stdout.write("\n" + json.dumps(counts) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(_seed_main(sys.argv[1]))
