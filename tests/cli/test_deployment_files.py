"""The deployment guide's files stay true: their commands exist and their settings are the README's."""

import re
from pathlib import Path

from core.cli import suprata

REPOSITORY = Path(__file__).resolve().parents[2]
DEPLOY = REPOSITORY / "deploy"


def readme_settings() -> set[str]:
    table = (REPOSITORY / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))


def test_the_unit_files_run_suprata_commands_that_exist_with_the_shared_environment():
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert [unit.name for unit in units] == ["suprata-web@.service", "suprata-worker@.service"]
    for unit in units:
        text = unit.read_text()
        [command] = re.findall(r"^ExecStart=\S+/suprata (\w+)", text, re.MULTILINE)
        assert command in suprata.commands, unit.name
        assert "EnvironmentFile=/etc/suprata/suprata.env" in text
        for setting in re.findall(r"^Environment=([A-Z_0-9]+)=", text, re.MULTILINE):
            assert setting in readme_settings(), setting
    guide = (REPOSITORY / "docs" / "deployment.md").read_text()
    assert all(unit.name in guide for unit in units)


def test_the_example_environment_sets_only_documented_settings():
    example = (DEPLOY / "suprata.env.example").read_text()
    names = re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.MULTILINE)
    assert names and set(names) <= readme_settings(), set(names) - readme_settings()
    assert "SUPRATA_ENV=production" in example and "SUPRATA_TRUSTED_PROXIES=1" in example


def test_the_proxy_hands_on_what_the_app_believes_from_a_trusted_proxy():
    nginx = (DEPLOY / "nginx" / "suprata.conf").read_text()
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Request-ID"):
        assert f"proxy_set_header {header}" in nginx
    ports = re.findall(r"server 127\.0\.0\.1:(\d+);", nginx)
    assert ports and all(f"suprata-web@{port}" in (REPOSITORY / "docs" / "deployment.md").read_text()
                         for port in ports)
