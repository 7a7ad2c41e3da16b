"""AppTest fixtures: caches cleared around every test, a database per test."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    # Cached results outlive an AppTest within one process.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app_for(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Build an AppTest reading the given engine's database."""

    def build(engine: Engine) -> AppTest:
        monkeypatch.setenv(
            "DATABASE_URL", engine.url.render_as_string(hide_password=False)
        )
        return AppTest.from_file(APP, default_timeout=30)

    return build
