"""Load test: the help site's knowledge-base search over 10,000 published articles, against a bare Flask
"hello" app in the same run, on SQLite (FTS5) and on PostgreSQL (tsvector).

For each database it seeds one business with the help desk on and 10,000 articles (titles of three topic
words, bodies mostly of ordinary words with a few topic words, so a query matches some articles and not
all, and a one-word query matches hundreds), serves the real app with gunicorn and
drives ``/help/search`` with wrk on loopback, rotating over one- to three-word queries, as a visitor (no
login); then the bare app with the same settings. It prints requests per second, p50 and p99 latency and the
search's share of the bare app's throughput (absolute numbers move from run to run on a shared machine; the
ratio, measured back to back, is the figure to watch).

    .venv/bin/python bench/helpdesk_bench.py                  # both databases, 10 s per measurement
    .venv/bin/python bench/helpdesk_bench.py --db sqlite --seconds 5

Needs gunicorn (the test extra) and wrk (``apt-get install -y wrk``); reuses the pay-link bench's serving and
measuring (``paylink_bench.py`` beside this file).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus

from paylink_bench import add_load_arguments, database, measure, print_measurements, print_ratios

ARTICLES = 10_000
TOPICS = ("boiler pressure radiator thermostat heater valve pump drain pipe leak filter furnace vent duct "
          "invoice payment card autopay receipt account password portal schedule appointment warranty "
          "water gas electric noise smell winter summer reset install repair replace clean check").split()
# Articles are mostly ordinary words, with a few of the topics: as in a real knowledge base, a query's
# words are in some articles, not in all of them.
FILLER = [f"word{n}" for n in range(3000)]
QUERIES = ["boiler", "water heater", "reset thermostat", "autopay card", "drain valve leak", "noise winter",
           "password reset", "warranty repair", "filter", "gas smell", "radiator valve", "portal invoice"]


def helpdesk_app():
    """The real application, configured from the environment the benchmark sets."""
    from core import create_app

    return create_app()


def seed(database_url: str, count: int) -> list[str]:
    """The schema (with the search index), one business with the help desk on and ``count`` published
    articles; returns the search paths to rotate over."""
    from sqlalchemy import insert, text

    from core import create_app
    from core.extensions import db
    from core.models import Business
    from core.plugins.settings import set_enabled
    from core.tenancy import business_context, utcnow
    from plugins.helpdesk.models import HelpArticle

    rng = random.Random(10)  # the same articles every run
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SUPRATA_QUEUE_URL": "memory"})
    with app.app_context():
        db.create_all()
        business = Business(slug="acme", name="Acme Plumbing", email="office@acme.test",
                            timezone="America/New_York")
        db.session.add(business)
        db.session.commit()
        with business_context(business.id):
            set_enabled("helpdesk", True)
            now = utcnow()
            rows = []
            for n in range(count):
                title = " ".join(rng.sample(TOPICS, 3)).capitalize()
                body = " ".join(rng.choices(FILLER, k=110) + rng.choices(TOPICS, k=3))
                rows.append({"business_id": business.id, "title": f"{title} {n}", "slug": f"article-{n}",
                             "body_markdown": body, "body_html": f"<p>{body}</p>", "body_text": body,
                             "status": "published", "published_at": now, "updated_at": now,
                             "helpful_yes": 0, "helpful_no": 0})
            db.session.execute(insert(HelpArticle), rows)
            db.session.commit()
        with db.engine.connect() as connection:
            connection.execute(text("ANALYZE"))  # planner statistics, as a database in service has them
            connection.commit()
        db.engine.dispose()
    return [f"/b/acme/help/search?q={quote_plus(query)}" for query in QUERIES]


def run(kind: str, args):
    with tempfile.TemporaryDirectory(prefix="suprata-bench-") as tmp, database(kind, Path(tmp)) as url:
        workdir = Path(tmp)
        started = time.monotonic()
        paths = seed(url, args.articles)
        seconds = time.monotonic() - started
        print(f"[{kind}] seeded {args.articles:,} articles in {seconds:.1f} s", flush=True)
        env = {**os.environ, "SUPRATA_DATABASE_URL": url, "SUPRATA_QUEUE_URL": "memory",
               "SUPRATA_INSTANCE_DIR": str(workdir), "SUPRATA_LOG_LEVEL": "WARNING"}
        hello = measure("hello", "paylink_bench:hello_app()", ["/"], env, args, workdir)
        search = measure("search", "helpdesk_bench:helpdesk_app()", paths, env, args, workdir)
    return hello, search


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--articles", type=int, default=ARTICLES)
    add_load_arguments(parser)
    args = parser.parse_args(argv)

    results = {kind: run(kind, args) for kind in args.db}

    print_measurements(results)
    print_ratios(results, f"help site search over {args.articles:,} articles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
