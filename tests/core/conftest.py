"""Fixtures for core's tests: an app configured as production is."""

from __future__ import annotations

import pytest

from core import create_app
from core.extensions import db as _db
from core.testing.fixtures import base_test_config


@pytest.fixture
def production_app(monkeypatch, database_url, tmp_path, mailbox, db):
    """An app configured from the environment as production is, on the suite's (emptied) database."""
    monkeypatch.setenv("SUPRATA_ENV", "production")
    monkeypatch.setenv("SUPRATA_SECRET_KEY", "a-production-secret-" * 3)
    monkeypatch.setenv("SUPRATA_PUBLIC_URL", "https://suprata.example.com")
    config = base_test_config(database_url, tmp_path, mailbox.port)
    for from_the_environment in ("SECRET_KEY", "SUPRATA_PUBLIC_URL"):
        del config[from_the_environment]
    application = create_app(config)
    assert application.config["SUPRATA_ENV"] == "production"
    assert not application.config["SUPRATA_PATH_PREFIX_TENANTS"]
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()
