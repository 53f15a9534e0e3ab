"""Fixtures for command-line tests: an app on an empty database of the kind the suite runs on."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core import create_app
from core.extensions import db
from core.testing.fixtures import base_test_config


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A database with no tables: a new SQLite file, or a new database on the suite's PostgreSQL server."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"suprata_cli_{uuid.uuid4().hex[:12]}"
    server = make_url(database_url).set(database="postgres")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_app(empty_database_url, tmp_path, mailbox):
    """A second app instance whose database has no schema yet."""
    application = create_app(base_test_config(empty_database_url, tmp_path, mailbox.port))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
