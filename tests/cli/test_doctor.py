"""`suprata doctor` reports configuration, schema, clock offset, mail and plugins, and fails on errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import create_app, doctor
from core.config import DEMO_SECRET_KEY
from core.extensions import db as _db
from core.testing.fixtures import base_test_config
from core.testing.postgres import free_port


def run_doctor(app):
    return app.test_cli_runner().invoke(args=["suprata", "doctor"])


def findings_by_check(app, **kwargs) -> dict[str, doctor.Finding]:
    return {finding.check: finding for finding in doctor.run_checks(app, **kwargs)}


def reported_offset(clock: doctor.Finding) -> float:
    return float(clock.message.split("database server ")[1].split(" s")[0])


def test_a_migrated_installation_is_healthy_and_reports_its_clock_offset(fresh_app):
    assert fresh_app.test_cli_runner().invoke(args=["suprata", "init-db"]).exit_code == 0
    result = run_doctor(fresh_app)
    assert result.exit_code == 0, result.output
    assert "clock offset against the database server" in result.output
    clock = findings_by_check(fresh_app)["clock"]
    assert clock.level == doctor.OK
    assert abs(reported_offset(clock)) < doctor.CLOCK_WARNING_SECONDS


def test_a_database_without_schema_is_an_error(fresh_app):
    result = run_doctor(fresh_app)
    assert result.exit_code != 0
    assert "no schema yet; run `suprata init-db`" in result.output


def test_a_plugin_branch_not_applied_yet_is_an_error(fresh_app):
    migrated = fresh_app.test_cli_runner().invoke(args=["db", "upgrade", "core@head"])
    assert migrated.exit_code == 0, migrated.output
    migrations = findings_by_check(fresh_app)["migrations"]
    assert migrations.level == doctor.ERROR
    assert "not applied yet: " in migrations.message and "0001_payments_stripe" in migrations.message


def test_a_clock_far_from_the_database_is_a_warning(fresh_app):
    assert fresh_app.test_cli_runner().invoke(args=["suprata", "init-db"]).exit_code == 0
    def five_minutes_slow():
        return datetime.now(UTC) - timedelta(minutes=5)

    clock = findings_by_check(fresh_app, local_clock=five_minutes_slow)["clock"]
    assert clock.level == doctor.WARNING
    assert 299 < reported_offset(clock) < 301
    assert "single sign-on" in clock.message


def test_an_unreachable_mail_server_is_an_error(fresh_app):
    fresh_app.config["MAIL_PORT"] = free_port()  # nothing listens there
    assert fresh_app.test_cli_runner().invoke(args=["suprata", "init-db"]).exit_code == 0
    result = run_doctor(fresh_app)
    assert result.exit_code != 0
    assert "mail: SMTP server 127.0.0.1" in result.output and "not reachable" in result.output


def test_production_with_the_demo_secret_key_is_an_error(fresh_app):
    fresh_app.config.update(SUPRATA_ENV="production", SECRET_KEY=DEMO_SECRET_KEY)
    secret = findings_by_check(fresh_app)["secret key"]
    assert secret.level == doctor.ERROR
    assert "SUPRATA_SECRET_KEY" in secret.message


def test_a_broken_plugin_is_reported(fresh_app):
    host = fresh_app.extensions["suprata"].plugins
    host.broken["half_installed"] = "import failed: ModuleNotFoundError('half_installed')"
    finding = findings_by_check(fresh_app)["plugin half_installed"]
    assert finding.level == doctor.ERROR
    assert "ModuleNotFoundError" in finding.message


@pytest.fixture
def production_fresh_app(empty_database_url, tmp_path, mailbox):
    config = dict(base_test_config(empty_database_url, tmp_path, mailbox.port), SUPRATA_ENV="production",
                  SUPRATA_PATH_PREFIX_TENANTS=False, SUPRATA_PUBLIC_URL="https://suprata.example.com")
    application = create_app(config)
    assert application.test_cli_runner().invoke(args=["suprata", "init-db"]).exit_code == 0
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_doctor_reports_a_business_without_a_host_name_in_production(production_fresh_app):
    runner = production_fresh_app.test_cli_runner()
    runner.invoke(args=["suprata", "create-business", "acme", "--name", "Acme", "--host", "pay.acme.test"])
    assert {f.check: f for f in doctor.run_checks(production_fresh_app)}["host names"].level == doctor.OK
    runner.invoke(args=["suprata", "create-business", "bolt", "--name", "Bolt"])

    result = run_doctor(production_fresh_app)

    assert result.exit_code != 0
    assert "host names: no host name, so unreachable and their emailed links fail: bolt" in result.output
