"""CPU time of one pay-link request in process, against bare Flask: a figure the machine's load hardly moves.

``paylink_bench.py`` measures requests per second from outside, which on a shared machine swings with whatever
else runs. This serves the same seeded pages through the Flask test client in one process and counts the
process's CPU time per request (``time.process_time``), for the pay-link page and for bare Flask, three
rounds each after a warm-up; with ``--sections`` it also says where the pay-link page's time goes.

    .venv/bin/python bench/paylink_cpu.py
    .venv/bin/python bench/paylink_cpu.py --sections

To compare with another commit, run this file against that checkout's code, back to back with this one:
``cd /tmp/other && PYTHONPATH=. /path/to/.venv/bin/python /path/to/bench/paylink_cpu.py``.
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paylink_bench import RATE_LIMIT_FOR_THE_RUN, hello_app, seed  # noqa: E402


def cpu_per_request(client, paths: list[str], requests: int) -> float:
    started = time.process_time()
    for n in range(requests):
        client.get(paths[n % len(paths)])
    return (time.process_time() - started) / requests * 1000


def timed(owner, name: str, label: str, totals: collections.Counter) -> None:
    """Add the CPU time of every call of ``owner.name`` to ``totals[label]``."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def measured(*args, **kwargs):
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            totals[label] += time.process_time() - started

    setattr(owner, name, measured)


def sections(app, totals: collections.Counter) -> None:
    from core.extensions import limiter
    from core.paylink import views

    for name in ("find_pay_link", "render_template", "invoice_body", "connected_processor"):
        timed(views, name, name, totals)
    timed(limiter, "_check_request_limit", "rate limiter", totals)
    session = views.db.session
    timed(type(session), "commit", "commit", totals)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--sections", action="store_true", help="where the pay-link page's time goes")
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="suprata-bench-")
    database_url = f"sqlite:///{workdir}/bench.db"
    os.environ.update(SUPRATA_INSTANCE_DIR=workdir, SUPRATA_DATABASE_URL=database_url,
                      SUPRATA_QUEUE_URL="memory", SUPRATA_LOG_LEVEL="WARNING",
                      SUPRATA_PAYLINK_RATE_LIMIT=RATE_LIMIT_FOR_THE_RUN)
    paths = seed(database_url, args.invoices)

    from core import create_app

    app = create_app({"SUPRATA_PAYLINK_RATE_LIMIT": RATE_LIMIT_FOR_THE_RUN})
    client, hello = app.test_client(), hello_app().test_client()
    for path in paths:  # warm: templates, the business, each invoice's page once
        assert client.get(path).status_code == 200, path
    totals: collections.Counter = collections.Counter()
    if args.sections:
        sections(app, totals)
    rounds = [(cpu_per_request(client, paths, args.requests), cpu_per_request(hello, ["/"], args.requests))
              for _ in range(3)]
    for page, bare in rounds:
        print(f"pay link {page:.3f} ms CPU per request, bare Flask {bare:.3f} ms: ratio {bare / page:.3f}")
    if args.sections:
        print(f"where the pay-link page's time goes (ms per request, of {rounds[-1][0]:.3f} at the end):")
        for label, seconds in totals.most_common():
            print(f"  {label:<22} {seconds / (3 * args.requests) * 1000:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
