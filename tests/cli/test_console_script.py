"""The ``suprata`` console script builds its app from the environment and runs the same commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("suprata")


def test_console_script_migrates_and_adds_a_business(tmp_path, mailbox):
    env = {
        **os.environ,
        "SUPRATA_INSTANCE_DIR": str(tmp_path),
        "SUPRATA_DATABASE_URL": f"sqlite:///{tmp_path / 'suprata.db'}",
        "SUPRATA_MAIL_PORT": str(mailbox.port),
    }

    def suprata(*args: str) -> subprocess.CompletedProcess:
        # The installed console script of this project, with fixed arguments.
        return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True,  # noqa: S603
                              timeout=120)

    assert suprata("init-db").returncode == 0
    created = suprata("create-business", "bayside", "--name", "Bayside Electric")
    assert created.returncode == 0, created.stderr
    assert "Created Bayside Electric (bayside) at http://127.0.0.1:5000/b/bayside/." in created.stdout
    doctor = suprata("doctor")
    assert "ok       migrations: up to date" in doctor.stdout
    assert "clock offset against the database server" in doctor.stdout
