"""Every setting the code reads can be set from the environment; the README's table lists exactly those."""

from __future__ import annotations

import re
from pathlib import Path

from core import config

REPOSITORY = Path(__file__).resolve().parents[2]
NAME = r"(?:SUPRATA_[A-Z0-9_]+|PROMETHEUS_MULTIPROC_DIR|DATABASE_URL)"
# Passed to create_app by code that embeds the app (tests), never read from the environment.
NOT_ENVIRONMENT = {"SUPRATA_LOAD_ENTRY_POINTS"}


def source_files():
    for folder in ("core", "plugins"):
        for path in sorted((REPOSITORY / folder).rglob("*.py")):
            if "testing" not in path.relative_to(REPOSITORY).parts and "migrations" not in path.parts:
                yield path


def names_in_code() -> set[str]:
    found = {name for path in source_files() for name in re.findall(rf'"({NAME})"', path.read_text())}
    # A prefix the code completes ("SUPRATA_OUTBOX" + "_LEASE_SECONDS") is not a setting of its own.
    return {name for name in found if not any(other.startswith(name + "_") for other in found)}


def names_in_readme() -> set[str]:
    readme = (REPOSITORY / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(rf"`({NAME})`", row.split(" | ")[0])}


def test_the_readme_table_lists_every_setting_the_code_reads_and_nothing_else():
    in_code = names_in_code() - NOT_ENVIRONMENT
    assert names_in_readme() - in_code == set(), "in the README, read by no code"
    assert in_code - names_in_readme() == set(), "read by the code, missing from the README's table"


def sample(name: str) -> str:
    """A valid value for a setting, different from its default."""
    special = {"SUPRATA_LOG_FORMAT": "json", "SUPRATA_LOG_LEVEL": "DEBUG", "SUPRATA_ENV": "staging",
               "SUPRATA_RATELIMIT_STORAGE": "memory://", "SUPRATA_PAYLINK_RATE_LIMIT": "5 per minute",
               "SUPRATA_DATABASE_URL": "sqlite:////tmp/elsewhere.db", "SUPRATA_QUEUE_URL": "memory",
               "SUPRATA_BLOCKED_PLUGINS": "sms_twilio"}
    if name in special:
        return special[name]
    if re.search(r"_(PORT|SECONDS|ATTEMPTS|TTL|MINUTES|HOURS|BYTES|PROXIES|THREADS|TIMEOUT|WORKERS)$", name):
        return "7"
    if re.search(r"_(TLS|SSL|ENABLED|COOKIES|TENANTS)$", name):
        return "yes"
    return "from-the-environment"


def test_every_setting_the_app_reads_from_its_config_comes_from_the_environment(monkeypatch):
    """A key the code reads from ``app.config`` either comes out of ``config.from_environment()`` when its
    variable is set, or is read from ``os.environ`` by the module that uses it."""
    readme = names_in_readme()
    for name in readme:
        monkeypatch.setenv(name, sample(name))
    from_environment = config.from_environment()

    unset = []
    for path in source_files():
        text = path.read_text()
        constants = dict(re.findall(rf'^(\w+) = "({NAME})"', text, re.MULTILINE))
        for key in re.findall(r'config(?:\.get\(|\[)\s*"?(\w+)"?', text):
            key = constants.get(key, key)
            if not re.fullmatch(NAME, key) or key in NOT_ENVIRONMENT:
                continue
            spelled = f'"{key}"|{_constant_for(constants, key)}'
            read_here = re.search(rf"environ(?:\.get\(|\[)\s*(?:{spelled})", text)
            if key not in from_environment and not read_here:
                unset.append(f"{path.relative_to(REPOSITORY)}: {key}")
    assert unset == []


def _constant_for(constants: dict[str, str], key: str) -> str:
    names = [constant for constant, value in constants.items() if value == key]
    return names[0] if names else "(?!)"


def test_the_environment_sets_the_production_settings(monkeypatch):
    for name, value in {"SUPRATA_TRUSTED_PROXIES": "1", "SUPRATA_PAYLINK_RATE_LIMIT": "30 per minute",
                        "SUPRATA_LOG_LEVEL": "warning", "SUPRATA_LOG_FORMAT": "JSON",
                        "SUPRATA_OUTBOX_LEASE_SECONDS": "120", "SUPRATA_OUTBOX_RETRY_SECONDS": "5"}.items():
        monkeypatch.setenv(name, value)

    settings = config.from_environment()

    assert settings["SUPRATA_TRUSTED_PROXIES"] == 1
    assert settings["SUPRATA_PAYLINK_RATE_LIMIT"] == "30 per minute"
    assert (settings["SUPRATA_LOG_LEVEL"], settings["SUPRATA_LOG_FORMAT"]) == ("WARNING", "json")
    assert (settings["SUPRATA_OUTBOX_LEASE_SECONDS"], settings["SUPRATA_OUTBOX_RETRY_SECONDS"]) == (120, 5)
    assert "SUPRATA_OUTBOX_MAX_ATTEMPTS" not in settings  # unset: the outbox's own default applies
