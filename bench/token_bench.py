"""Load test: the OpenID Connect token endpoint (a code exchanged for an ID token: client secret, PKCE
verifier, a single-use code claimed in one UPDATE, an ES256 signature), against a bare Flask app answering
a POST in the same run.

It seeds one business, a registered client and a signed-in customer's session with enough fresh
authorization codes that no request of the run repeats one, serves the real app with gunicorn and posts the
exchanges with wrk on loopback; then the bare app with the same settings. It prints requests per second,
p50 and p99 latency and the endpoint's share of the bare app's throughput (the ratio, measured back to back,
is the figure to watch on a shared machine).

    .venv/bin/python bench/token_bench.py                  # SQLite, 10 s per measurement
    .venv/bin/python bench/token_bench.py --db sqlite postgresql --seconds 5

Needs gunicorn (the test extra) and wrk (``apt-get install -y wrk``); reuses the pay-link bench's serving.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import Flask, jsonify, request
from paylink_bench import (
    Measurement,
    add_load_arguments,
    database,
    gunicorn,
    percentile,
    print_measurements,
    print_ratios,
)

CODES = 40_000
TOKEN_PATH = "/b/acme/oidc/token"  # noqa: S105 - an address, not a secret


def bare_app() -> Flask:
    """The reference: Flask answering a form POST with JSON, and nothing else."""
    app = Flask("bare")

    @app.post("/token")
    def token():
        return jsonify({"code": request.form.get("code"), "token_type": "Bearer"})

    @app.get("/")
    def ready():
        return "ok"

    return app


def token_app() -> Flask:
    from core import create_app

    return create_app({"RATELIMIT_ENABLED": False})


def seed(database_url: str, codes: int) -> tuple[list[str], str]:
    """The schema, a business, a client and ``codes`` fresh codes; returns the request bodies and the
    client's Authorization header."""
    from authlib.oauth2.rfc7636 import create_s256_code_challenge
    from sqlalchemy import insert

    from core import create_app
    from core.extensions import db
    from core.identity.oidc.clients import register_client
    from core.identity.oidc.keys import signing_key
    from core.identity.tokens import hash_token, new_token
    from core.models import AuthSession, Business, Customer, CustomerUser, OidcAuthorizationCode
    from core.tenancy import business_context, utcnow

    redirect_uri = "https://desk.example.com/cb"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SUPRATA_QUEUE_URL": "memory"})
    with app.app_context():
        db.create_all()
        business = Business(slug="acme", name="Acme Plumbing", email="office@acme.test")
        db.session.add(business)
        db.session.commit()
        with business_context(business.id):
            customer = Customer(name="Maria Garcia")
            db.session.add(customer)
            db.session.flush()
            user = CustomerUser(customer_id=customer.id, email="maria@example.com",
                                email_confirmed_at=utcnow())
            db.session.add(user)
            db.session.flush()
            session_row = AuthSession(token_hash=new_token()[1], realm="customer", user_id=user.id)
            db.session.add(session_row)
            client, secret = register_client("Bench desk", [redirect_uri])
            db.session.commit()
            signing_key()
            verifier = secrets.token_urlsafe(48)
            challenge = create_s256_code_challenge(verifier)
            expires = utcnow() + timedelta(hours=2)  # the run outlives the real five minutes
            bodies, rows = [], []
            for n in range(codes):
                code = secrets.token_urlsafe(32)
                rows.append({"business_id": business.id, "code_hash": hash_token(code),
                             "client_id": client.client_id, "customer_user_id": user.id,
                             "auth_session_id": session_row.id, "redirect_uri": redirect_uri,
                             "scope": "openid profile email", "nonce": f"nonce-{n}",
                             "code_challenge": challenge, "code_challenge_method": "S256", "auth_time": 0,
                             "created_at": utcnow(), "expires_at": expires})
                bodies.append(f"grant_type=authorization_code&code={code}&code_verifier={verifier}"
                              f"&redirect_uri={redirect_uri}")
            db.session.execute(insert(OidcAuthorizationCode), rows)
            db.session.commit()
            basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
        db.engine.dispose()
    return bodies, f"Basic {basic}"


def wrk_post(base: str, path: str, bodies: list[str], authorization: str | None, *, seconds: int,
             connections: int, threads: int, workdir: Path) -> tuple[float, float, float, int]:
    """POST ``bodies`` in turn, each once (requests per second, p50 ms, p99 ms, requests made)."""
    script = workdir / "post.lua"
    (workdir / "bodies.txt").write_text("\n".join(bodies) + "\n")
    headers = '["Content-Type"] = "application/x-www-form-urlencoded"'
    if authorization:
        headers += f', ["Authorization"] = "{authorization}"'
    script.write_text(f"""local bodies = {{}}
for line in io.lines("{workdir / 'bodies.txt'}") do bodies[#bodies + 1] = line end
local thread_count = 0
setup = function(thread)
  thread:set("offset", thread_count)
  thread_count = thread_count + 1
end
local counter = 0
request = function()
  -- Thread i sends bodies i, i + threads, i + 2 * threads...: never one another thread sent.
  local index = (offset + counter) % #bodies + 1
  counter = counter + {threads}
  return wrk.format("POST", "{path}", {{{headers}}}, bodies[index])
end
""")
    command = [shutil.which("wrk") or "/usr/bin/wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
               "--latency", "-s", str(script), base]
    output = subprocess.run(command, check=True, capture_output=True, text=True,  # noqa: S603
                            timeout=seconds + 60).stdout
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"errors during the run:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    return rps, percentile(output, "50"), percentile(output, "99"), total


def run(kind: str, args) -> tuple[Measurement, Measurement]:
    with tempfile.TemporaryDirectory(prefix="suprata-bench-") as tmp, database(kind, Path(tmp)) as url:
        workdir = Path(tmp)
        bodies, authorization = seed(url, args.codes)
        print(f"[{kind}] seeded {len(bodies):,} authorization codes", flush=True)
        env = {**os.environ, "SUPRATA_DATABASE_URL": url, "SUPRATA_QUEUE_URL": "memory",
               "SUPRATA_INSTANCE_DIR": str(workdir), "SUPRATA_LOG_LEVEL": "WARNING",
               "SUPRATA_RATELIMIT_ENABLED": "0"}
        settings = {"seconds": args.seconds, "connections": args.connections, "threads": args.threads,
                    "workdir": workdir}
        with gunicorn("token_bench:bare_app()", env, args.workers, ready_path="/") as base:
            rps, p50, p99, _ = wrk_post(base, "/token", bodies, None, **settings)
            bare = Measurement("bare", rps, p50, p99)
        # Warm-up and measurement take codes from separate halves, so no code is ever sent twice.
        half = len(bodies) // 2
        with gunicorn("token_bench:token_app()", env, args.workers, ready_path="/b/acme/oidc/jwks") as base:
            wrk_post(base, TOKEN_PATH, bodies[:half], authorization, **{**settings, "seconds": 2})
            rps, p50, p99, made = wrk_post(base, TOKEN_PATH, bodies[half:], authorization, **settings)
            if made > half:
                raise RuntimeError(f"the run made {made} exchanges with {half} codes: seed more (--codes)")
            token = Measurement("token", rps, p50, p99)
    return bare, token


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite"])
    parser.add_argument("--codes", type=int, default=CODES)
    add_load_arguments(parser, connections=8)
    args = parser.parse_args(argv)

    results = {kind: run(kind, args) for kind in args.db}

    print_measurements(results)
    print_ratios(results, "token endpoint")
    return 0


if __name__ == "__main__":
    sys.exit(main())
