"""The demo's mailbox: an SMTP server that keeps every message it receives, and a web page to read them.

    python -m demo.mailbox_server --smtp-port 1025 --http-port 8025 [--directory instance/mailbox]

Point the app at it with ``SUPRATA_MAIL_SERVER=127.0.0.1 SUPRATA_MAIL_PORT=1025``. Every message is saved as
an ``.eml`` file; http://127.0.0.1:8025/ lists them, newest first. Both servers listen on 127.0.0.1 only.
A message's HTML is sanitized and shown in a sandboxed frame, so a mail can run no script in the page.

It also catches webhooks, the other thing the demo's plugins send out: a POST to ``/webhooks/<name>`` is
kept (``webhooks/`` beside the mail) and http://127.0.0.1:8025/webhooks shows each one with its headers.
"""

from __future__ import annotations

import argparse
import copy
import email
import email.policy
import html
import json
import os
import re
import signal
import time
import uuid
from datetime import datetime
from email.message import EmailMessage
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nh3
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
MESSAGE_NAME = re.compile(r"^\d+-[0-9a-f]{8}\.eml$")
WEBHOOK_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LARGEST_WEBHOOK = 64 * 1024
# Headers worth reading on a caught webhook (its signature, its idempotency key).
WEBHOOK_HEADERS = ("Content-Type", "Idempotency-Key", "User-Agent")
URL = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)]")

# Email layouts style themselves with inline styles, classes and a <style> block: keep those, drop scripts.
_HTML_ATTRIBUTES = copy.deepcopy(nh3.ALLOWED_ATTRIBUTES)
_HTML_ATTRIBUTES["*"] = {"style", "class", "align", "width", "height"}
_HTML_ATTRIBUTES["img"] = _HTML_ATTRIBUTES.get("img", set()) | {"src", "alt"}


class SaveToDirectory:
    """aiosmtpd handler: each message received becomes ``<directory>/<nanoseconds>-<random>.eml``."""

    def __init__(self, directory: Path):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler protocol
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.directory / f".{name}.part"
        partial.write_bytes(envelope.content)
        partial.replace(self.directory / name)  # the page never sees half a message
        return "250 Message accepted for delivery"


def _read(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _received_at(path: Path) -> str:
    nanoseconds = int(path.name.split("-", 1)[0])
    return datetime.fromtimestamp(nanoseconds / 1e9).strftime("%Y-%m-%d %H:%M:%S")


def _linkify(text: str) -> str:
    return URL.sub(lambda m: f'<a href="{m.group(0)}" target="_blank" rel="noopener">{m.group(0)}</a>',
                   html.escape(text))


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else None


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 960px; padding: 16px; color: #1f2328; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e4e6ea; vertical-align: top; }
pre { white-space: pre-wrap; background: #f6f8fa; padding: 12px; border-radius: 6px; }
iframe { width: 100%; height: 640px; border: 1px solid #e4e6ea; border-radius: 6px; }
dt { font-weight: bold; } .muted { color: #59636e; }
"""


def _page(title: str, body: str, head: str = "") -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>{head}<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


class MailboxPages(BaseHTTPRequestHandler):
    """Pages: ``/`` lists the messages, ``/m/<file name>`` shows one, ``/webhooks`` lists caught webhooks;
    ``POST /webhooks/<name>`` catches one."""

    directory: Path  # set on the subclass made by serve_pages

    def do_POST(self):  # noqa: N802 - http.server's handler protocol
        name = self.path.removeprefix("/webhooks/")
        length = int(self.headers.get("Content-Length") or 0)
        if not self.path.startswith("/webhooks/") or not WEBHOOK_NAME.match(name) or length > LARGEST_WEBHOOK:
            refused = _page("Not found", "<p>Post webhooks to /webhooks/&lt;name&gt;.")
            self._send(HTTPStatus.NOT_FOUND, refused)
            return
        folder = self.directory / "webhooks"
        folder.mkdir(exist_ok=True)
        caught = {"name": name, "headers": {h: v for h, v in self.headers.items()
                                              if h in WEBHOOK_HEADERS or h.lower().startswith("x-")},
                  "body": self.rfile.read(length).decode("utf-8", "replace")}
        (folder / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.json").write_text(json.dumps(caught))
        self._send(HTTPStatus.OK, _page("Caught", "<p>Thanks.</p>"))

    def do_GET(self):  # noqa: N802 - http.server's handler protocol
        if self.path in ("/", ""):
            self._send(HTTPStatus.OK, self._list())
            return
        if self.path == "/webhooks":
            self._send(HTTPStatus.OK, self._webhooks())
            return
        name = self.path.removeprefix("/m/")
        if self.path.startswith("/m/") and MESSAGE_NAME.match(name) and (self.directory / name).is_file():
            self._send(HTTPStatus.OK, self._show(self.directory / name))
            return
        self._send(HTTPStatus.NOT_FOUND, _page("Not found", "<p>No such message. <a href='/'>All mail</a>"))

    def _list(self) -> str:
        paths = sorted((p for p in self.directory.glob("*.eml") if MESSAGE_NAME.match(p.name)), reverse=True)
        rows = "".join(
            f"<tr><td class='muted'>{_received_at(p)}</td><td>{html.escape(str(m['To'] or ''))}</td>"
            f"<td><a href='/m/{p.name}'>{html.escape(str(m['Subject'] or '(no subject)'))}</a></td></tr>"
            for p, m in ((p, _read(p)) for p in paths)
        )
        table = (f"<table><tr><th>Received</th><th>To</th><th>Subject</th></tr>{rows}</table>" if rows
                 else "<p class='muted'>No mail yet. Messages sent by the app appear here.</p>")
        links = "<p><a href='/webhooks'>Webhooks the plugins posted &rarr;</a></p>"
        return _page("Mailbox", f"<h1>Mailbox</h1>{links}{table}",
                     head="<meta http-equiv='refresh' content='5'>")

    def _webhooks(self) -> str:
        paths = sorted((self.directory / "webhooks").glob("*.json"), reverse=True)
        items = []
        for path in paths:
            caught = json.loads(path.read_text())
            try:
                body = json.dumps(json.loads(caught["body"]), indent=2)
            except ValueError:
                body = caught["body"]
            headers = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>"
                              for k, v in caught["headers"].items())
            title = f"{html.escape(caught['name'])} <span class='muted'>{_received_at(path)}</span>"
            items.append(f"<h2>{title}</h2><dl>{headers}</dl><pre>{html.escape(body)}</pre>")
        listing = "".join(items) or "<p class='muted'>No webhook yet. What the plugins post appears here.</p>"
        return _page("Webhooks", f"<p><a href='/'>&larr; All mail</a></p><h1>Webhooks</h1>{listing}",
                     head="<meta http-equiv='refresh' content='5'>")

    def _show(self, path: Path) -> str:
        message = _read(path)
        headers = "".join(
            f"<dt>{name}</dt><dd>{html.escape(str(message[name]))}</dd>"
            for name in ("Subject", "From", "To", "Reply-To", "Date") if message[name]
        )
        parts = []
        html_body = _body(message, "html")
        if html_body is not None:
            clean = nh3.clean(html_body, tags=nh3.ALLOWED_TAGS | {"style"},
                              clean_content_tags={"script", "title"}, attributes=_HTML_ATTRIBUTES)
            framed = html.escape('<base target="_blank">' + clean, quote=True)
            parts.append(f"<h2>HTML</h2><iframe sandbox='allow-popups allow-popups-to-escape-sandbox' "
                         f"srcdoc=\"{framed}\" title='HTML version'></iframe>")
        text_body = _body(message, "plain")
        if text_body is not None:
            parts.append(f"<h2>Text</h2><pre>{_linkify(text_body)}</pre>")
        title = str(message["Subject"] or "(no subject)")
        return _page(title, f"<p><a href='/'>&larr; All mail</a></p><dl>{headers}</dl>{''.join(parts)}")

    def _send(self, status: HTTPStatus, page: str) -> None:
        body = page.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", "script-src 'none'; frame-ancestors 'none'")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass  # one line per page view would drown the demo's console


def serve_pages(directory: Path, port: int) -> ThreadingHTTPServer:
    handler = type("Pages", (MailboxPages,), {"directory": directory})
    return ThreadingHTTPServer((HOST, port), handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="SMTP server and web page for reading the demo's mail.")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--directory", type=Path,
                        default=Path(os.environ.get("SUPRATA_INSTANCE_DIR", "instance")) / "mailbox")
    args = parser.parse_args(argv)
    args.directory.mkdir(parents=True, exist_ok=True)

    # Ctrl-C and `kill` stop it, even when started from a script that ignores SIGINT in background jobs.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.default_int_handler)
    smtp = Controller(SaveToDirectory(args.directory), hostname=HOST, port=args.smtp_port)
    pages = None
    # Ctrl-C may come at any moment, even while starting: whatever was started is stopped.
    try:
        smtp.start()
        pages = serve_pages(args.directory, args.http_port)
        print(f"Mailbox: SMTP on {HOST}:{args.smtp_port}, mail to read at http://{HOST}:{args.http_port}/",
              flush=True)
        pages.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if pages is not None:
            pages.server_close()
        smtp.stop(no_assert=True)


if __name__ == "__main__":
    main()
