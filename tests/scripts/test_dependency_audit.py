"""The dependency audit run by scripts/run-tests: real pip-audit against a local advisory service (the OSV
API, which pip-audit can be pointed at): a known vulnerability fails the run; an advisory service that
cannot be reached is reported and does not fail it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"
ADVISORY = {
    "id": "PYSEC-2023-62", "summary": "Session cookie disclosure", "aliases": ["CVE-2023-30861"],
    "affected": [{"package": {"name": "flask", "ecosystem": "PyPI"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.2.5"}]}]}],
}


class Advisories(BaseHTTPRequestHandler):
    """The OSV query API: Flask before 2.2.5 has a vulnerability, everything else none; 503 when down."""

    down = False

    def do_POST(self):  # noqa: N802 - the http.server API
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.down:
            self.send_response(503)
            self.end_headers()
            return
        vulnerable = query["package"]["name"] == "flask" and query["version"].split(".") < ["2", "2", "5"]
        body = json.dumps({"vulns": [ADVISORY]} if vulnerable else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def advisory_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Advisories)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    Advisories.down = False
    server.shutdown()
    thread.join()
    server.server_close()


def audit(tmp_path, requirement: str, osv_url: str) -> subprocess.CompletedProcess:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(requirement + "\n")
    return subprocess.run(  # noqa: S603 - our own script, with arguments of this test
        [sys.executable, str(SCRIPT), "--requirement", str(requirements), "--no-deps", "--disable-pip",
         "--vulnerability-service", "osv", "--osv-url", osv_url, "--cache-dir", str(tmp_path / "cache"),
         "--timeout", "5"],
        capture_output=True, text=True, timeout=300, check=False,
    )


def test_a_known_vulnerability_fails_the_run_and_says_what_fixes_it(tmp_path, advisory_service):
    url = f"http://127.0.0.1:{advisory_service.server_port}/v1/query"
    result = audit(tmp_path, "flask==2.2.2", url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "flask 2.2.2: PYSEC-2023-62 (fixed in 2.2.5)" in result.stdout


def test_no_known_vulnerability_passes(tmp_path, advisory_service):
    url = f"http://127.0.0.1:{advisory_service.server_port}/v1/query"
    result = audit(tmp_path, "flask==3.1.1", url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dependency audit: 1 packages, no known vulnerabilities" in result.stdout


def test_an_advisory_service_that_cannot_be_reached_is_reported_and_does_not_fail_the_run(
        tmp_path, advisory_service):
    Advisories.down = True
    down = audit(tmp_path, "flask==2.2.2", f"http://127.0.0.1:{advisory_service.server_port}/v1/query")
    advisory_service.server_close()
    nobody = audit(tmp_path, "flask==2.2.2", "http://127.0.0.1:9/v1/query")  # nothing listens on port 9
    for result in (down, nobody):
        assert result.returncode == 0, result.stdout + result.stderr
        assert "dependency audit NOT DONE: the advisory service could not be reached" in result.stdout


def test_a_service_that_answers_for_no_package_is_reported_as_not_done(tmp_path):
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("audit_dependencies", SCRIPT)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    skipped = {"dependencies": [{"name": "flask", "skip_reason":
                                 "Dependency not found on PyPI and could not be audited: flask (3.1.1)"}]}
    status, message = module.verdict(0, json.dumps(skipped), "")
    assert status == 0
    assert message.startswith("dependency audit NOT DONE: the advisory service answered for none")
