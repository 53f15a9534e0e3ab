"""Audit the installed Python packages for known vulnerabilities with pip-audit (run by scripts/run-tests).

pip-audit asks the package registry's advisory service about each installed package. A known vulnerability
fails the run (exit 1) and is listed with the versions that fix it. An advisory service that cannot be
reached, or that answers for none of the packages, does not fail the run by itself: this says so plainly,
because then nothing was audited. Any other failure of pip-audit fails the run.

Usage: python scripts/audit_dependencies.py [pip-audit arguments...]  (the tests point it elsewhere)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# What pip-audit prints when it cannot reach the advisory service (requests' and its own errors).
UNREACHABLE = ("ConnectionError", "ConnectTimeout", "ReadTimeout", "Max retries exceeded",
               "Could not connect", "NameResolutionError", "ServiceError", "HTTPError",
               "your network may be blocking")
# pip-audit's reason for a package the service had no answer for.
NOT_ANSWERED = "could not be audited"
TIMEOUT_SECONDS = 900


def run_pip_audit(arguments: list[str]) -> subprocess.CompletedProcess:
    pip_audit = Path(sys.executable).parent / "pip-audit"
    command = [str(pip_audit), "--format", "json", "--progress-spinner", "off", "--skip-editable", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,  # noqa: S603
                          check=False)


def verdict(returncode: int, stdout: str, stderr: str) -> tuple[int, str]:
    """The exit status of the audit and what to say, from what pip-audit printed."""
    try:
        dependencies = json.loads(stdout)["dependencies"]
    except (ValueError, KeyError, TypeError):
        last_line = (stderr.strip().splitlines() or ["no output"])[-1]
        if any(sign in stderr for sign in UNREACHABLE):
            return 0, ("dependency audit NOT DONE: the advisory service could not be reached "
                       f"({last_line}); run it again when it can be")
        return 1, f"dependency audit failed: pip-audit exited with {returncode}:\n{stderr.strip()}"
    vulnerable = [d for d in dependencies if d.get("vulns")]
    if vulnerable:
        lines = [f"  {d['name']} {d['version']}: {v['id']} {_fixes(v)}"
                 for d in vulnerable for v in d["vulns"]]
        return 1, "dependency audit: known vulnerabilities found:\n" + "\n".join(lines)
    audited = [d for d in dependencies if "skip_reason" not in d]
    unanswered = sorted(d["name"] for d in dependencies if NOT_ANSWERED in d.get("skip_reason", ""))
    if not audited and unanswered:
        return 0, ("dependency audit NOT DONE: the advisory service answered for none of the "
                   f"{len(unanswered)} packages; run it again when it can be reached")
    message = f"dependency audit: {len(audited)} packages, no known vulnerabilities"
    if unanswered:
        message += "; the advisory service had no answer for: " + ", ".join(unanswered)
    return 0, message


def _fixes(vulnerability: dict) -> str:
    versions = vulnerability.get("fix_versions")
    return f"(fixed in {', '.join(versions)})" if versions else "(no fix yet)"


def main(arguments: list[str]) -> int:
    try:
        result = run_pip_audit(arguments)
    except subprocess.TimeoutExpired:
        print(f"dependency audit NOT DONE: no answer within {TIMEOUT_SECONDS} s from the advisory service")
        return 0
    status, message = verdict(result.returncode, result.stdout, result.stderr)
    print(message)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
