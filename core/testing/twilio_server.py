"""A local, stateful stand-in for Twilio's Messages API, for the test suite and the offline demo.

Drive it only through the real ``twilio`` SDK. The SDK builds absolute ``https://api.twilio.com/...`` URLs;
:class:`LocalTwilioHttpClient` (a ``TwilioHttpClient``) sends every request for ``twilio.com`` or one of
its subdomains to the server instead, and refuses any other host, so a test can never reach the internet::

    server = TwilioTestServer().start()
    client = server.client()    # a twilio.rest.Client with http_client=LocalTwilioHttpClient(base_url)
    client.messages.create(to="+15551230001", from_="+15005550006", body="Your technician is on the way")
    server.messages[-1].body    # what was sent, in order

What it does as Twilio does: HTTP basic auth with the account SID and auth token (401 and error 20003
otherwise); ``201`` with Twilio's message JSON; errors in Twilio's JSON shape, so the SDK raises
``TwilioRestException`` with the code: 21610 for a number that texted STOP, 21211 for an invalid ``To``,
21602/21603/21604 for missing fields, 21617 for a body over 1,600 characters, and the documented magic test
numbers (``To`` +15005550001 invalid, +15005550002 unroutable, +15005550003 no international permission,
+15005550004 opted out, +15005550009 not a mobile; ``From`` +15005550001 invalid, +15005550007 not owned).

What the test decides, because Twilio decides it far away and late:

- delivery: :meth:`TwilioTestServer.send_status_callback` POSTs a signed status callback (sent, delivered,
  undelivered, failed) when and in the order the test chooses; or ``auto_status=True`` walks every message
  through sent and delivered shortly after it is accepted, as the demo wants;
- customers texting the business: :meth:`TwilioTestServer.inbound` POSTs a signed inbound SMS webhook,
  and STOP/START words update the opted-out set first, as Twilio's default opt-out handling does;
- outages: :meth:`TwilioTestServer.fail_next` answers the next API requests with a 5xx and
  :meth:`TwilioTestServer.drop_next` closes their connections unanswered, as an unreachable API would.

Webhooks are signed with Twilio's scheme (``X-Twilio-Signature``, from
``RequestValidator(auth_token).compute_signature(url, params)``). The ``signed_*`` methods build the same
request without sending it, for tests that hand it to a Flask test client.

``/`` is a small page listing every message sent and received, newest first, for the demo. Run it
standalone with ``python -m core.testing.twilio_server --port 12112``. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import hmac
import html
import json
import logging
import re
import signal
import sys
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import requests
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from core.notifications.sms_text import sms_length

__all__ = [
    "ACCOUNT_SID",
    "AUTH_TOKEN",
    "PHONE_NUMBER",
    "LocalTwilioHttpClient",
    "SentMessage",
    "TwilioTestServer",
    "TwilioWebhook",
    "main",
]

log = logging.getLogger(__name__)

# Known to the local server only; the shapes are Twilio's (AC + 32 hex digits, 32 hex digits).
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2
# Twilio's magic "valid sender" test number.
PHONE_NUMBER = "+15005550006"

API_VERSION = "2010-04-01"
MAX_BODY = 1600
STATUSES = ("accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed", "read")
# A message's status only moves forward: a late "sent" callback does not undo "delivered".
_STATUS_RANK = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "undelivered": 4,
                "failed": 4, "read": 5}
_DEFAULT_ERROR = {"undelivered": (30003, "Unreachable destination handset"),
                  "failed": (30008, "Unknown error")}

# Twilio's default opt-out keywords (whole message, any case).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")
_MESSAGES = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")
_MESSAGE = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$")

# Twilio's magic test numbers: the error each one gives (https://www.twilio.com/docs/iam/test-credentials).
_MAGIC_TO = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number: +15005550002, is not currently reachable using the "
                            "'From' phone number via SMS."),
    "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region indicated by "
                            "the 'To' number: +15005550003."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}
_MAGIC_FROM = {
    "+15005550001": (21212, "The 'From' number +15005550001 is not a valid phone number, shortcode, or "
                            "alphanumeric sender ID."),
    "+15005550007": (21606, "The 'From' phone number provided is not a valid message-capable Twilio phone "
                            "number for this destination/account."),
}

def segments(body: str) -> int:
    """How many SMS segments Twilio bills ``body`` as (GSM-7: 160, then 153 each; UCS-2: 70, then 67)."""
    return sms_length(body).segments


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment else None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _is_phone_number(value: str) -> bool:
    return bool(_E164.match(value))


class TwilioError(Exception):
    """An error answered in Twilio's JSON shape; the SDK turns it into ``TwilioRestException(code)``."""

    def __init__(self, code: int, message: str, status: int = 400, **extra):
        super().__init__(message)
        self.code, self.message, self.status, self.extra = code, message, status, extra

    def body(self) -> dict:
        return {"code": self.code, "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}", "status": self.status,
                **self.extra}


@dataclass
class SentMessage:
    """One message through the server. ``direction`` is ``outbound-api`` (the app sent it) or ``inbound``."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    status: str
    direction: str = "outbound-api"
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    num_segments: int = 1
    date_created: datetime = field(default_factory=_now)
    date_updated: datetime = field(default_factory=_now)
    date_sent: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None

    def to_json(self) -> dict:
        """The message as Twilio's API shows it."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": _rfc2822(self.date_created),
            "date_sent": _rfc2822(self.date_sent),
            "date_updated": _rfc2822(self.date_updated),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            # Twilio picks a sender from the service's pool later; the create answer has none yet.
            "from": None if self.status == "accepted" else self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": uri.removesuffix(".json") + "/Media.json"},
            "to": self.to,
            "uri": uri,
        }


@dataclass(frozen=True)
class TwilioWebhook:
    """A request as Twilio would POST it to the app: form ``params``, signed for exactly ``url``."""

    url: str
    params: dict[str, str]
    signature: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Twilio-Signature": self.signature,
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "TwilioProxy/1.1",
                "I-Twilio-Idempotency-Token": uuid.uuid4().hex}

    @property
    def path(self) -> str:
        """Path and query of ``url``, for a Flask test client: ``client.post(w.path, data=w.params, ...)``."""
        parts = urlsplit(self.url)
        return urlunsplit(("", "", parts.path or "/", parts.query, ""))

    def send(self, timeout: float = 10) -> requests.Response:
        return requests.post(self.url, data=self.params, headers=self.headers, timeout=timeout,
                             allow_redirects=False)


class LocalTwilioHttpClient(TwilioHttpClient):
    """Sends the SDK's requests for ``twilio.com`` and its subdomains to ``base_url`` (path and query kept).

    Any other host is refused with ``ValueError``, so a misconfigured test fails instead of going out.
    Pass it as ``twilio.rest.Client(sid, token, http_client=LocalTwilioHttpClient(base_url))``.
    """

    def __init__(self, base_url: str, **kwargs):
        kwargs.setdefault("timeout", 10)
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            raise ValueError(f"not a Twilio URL: {url}")
        return self.base_url + urlunsplit(("", "", parts.path, parts.query, ""))

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self.rewrite(url), *args, **kwargs)


class TwilioTestServer:
    """Twilio's Messages API on 127.0.0.1, served from a background thread. State is per server."""

    def __init__(self, *, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN,
                 phone_number: str = PHONE_NUMBER, auto_status: bool = False, auto_status_delay: float = 0.5,
                 log_requests: bool = False):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.phone_number = phone_number
        # Read on each accepted message, so a test or the demo may switch it at any time.
        self.auto_status = auto_status
        self.auto_status_delay = auto_status_delay
        self._log_requests = log_requests
        self._accounts = {account_sid: auth_token}
        self._inbound_urls: dict[str, str] = {}  # a business's number -> the app's inbound webhook for it
        self._changed = threading.Condition()
        self._messages: dict[str, SentMessage] = {}  # sid -> message, in arrival order
        self._opted_out: set[str] = set()
        self._faults: deque[int | None] = deque()  # status to answer, or None to drop the connection
        self._generation = 0  # bumped by reset(), so automatic updates of forgotten messages stop
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- Lifecycle ---------------------------------------------------------------------------------

    @property
    def port(self) -> int | None:
        return self._httpd.server_address[1] if self._httpd else None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("TwilioTestServer is not running")
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> TwilioTestServer:
        """Listen on 127.0.0.1:port (0: a free port the system picks, so nothing can take it first)."""
        if self._httpd is not None:
            raise RuntimeError("TwilioTestServer is already running")
        handler = type("Handler", (_Handler,), {"twilio": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        httpd.daemon_threads = True
        self._stopping.clear()
        self._httpd = httpd
        # A short poll interval: stop() waits for the next poll, and tests stop servers often.
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="twilio-test-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; automatic status updates still waiting are dropped. Messages are kept."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def reset(self) -> None:
        """Forget every message and opt-out and every pending fault. Accounts and settings stay."""
        with self._changed:
            self._messages.clear()
            self._opted_out.clear()
            self._faults.clear()
            self._generation += 1
            self._changed.notify_all()

    def __enter__(self) -> TwilioTestServer:
        return self if self._httpd is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- Clients and accounts ----------------------------------------------------------------------

    def http_client(self, **kwargs) -> LocalTwilioHttpClient:
        return LocalTwilioHttpClient(self.base_url, **kwargs)

    def client(self, account_sid: str | None = None, auth_token: str | None = None, **kwargs) -> Client:
        """A real ``twilio.rest.Client`` whose requests come here (default: this server's account)."""
        account_sid = account_sid or self.account_sid
        auth_token = auth_token or self._accounts.get(account_sid, self.auth_token)
        return Client(account_sid, auth_token, http_client=self.http_client(), **kwargs)

    def set_inbound_url(self, number: str, url: str) -> None:
        """Texts to ``number`` go to the app at ``url``, as a number's "a message comes in" webhook does;
        the page then offers a form to text that number. Over HTTP: ``POST /_config/numbers`` with
        ``number`` and ``url``."""
        with self._changed:
            self._inbound_urls[number] = url

    def add_account(self, account_sid: str, auth_token: str) -> None:
        """Accept a second account (each business has its own Twilio keys)."""
        with self._changed:
            self._accounts[account_sid] = auth_token

    # --- What was sent -----------------------------------------------------------------------------

    @property
    def messages(self) -> list[SentMessage]:
        """Copies of the messages the app sent, oldest first."""
        return [m for m in self._snapshot() if m.direction != "inbound"]

    @property
    def received(self) -> list[SentMessage]:
        """Copies of the inbound messages delivered to the app with :meth:`inbound`, oldest first."""
        return [m for m in self._snapshot() if m.direction == "inbound"]

    def message(self, sid: str) -> SentMessage:
        with self._changed:
            return dataclasses.replace(self._messages[sid])

    def to(self, number: str) -> list[SentMessage]:
        return [m for m in self.messages if m.to == number]

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[SentMessage]:
        """Block until at least ``count`` messages were sent; returns them all."""
        with self._changed:
            self._changed.wait_for(lambda: sum(m.direction != "inbound" for m in self._messages.values())
                                   >= count, timeout=timeout)
        return self.messages

    def _snapshot(self) -> list[SentMessage]:
        with self._changed:
            return [dataclasses.replace(m) for m in self._messages.values()]

    # --- Opt-outs and faults -----------------------------------------------------------------------

    def opt_out(self, number: str) -> None:
        """``number`` texted STOP: sending to it now fails with 21610."""
        with self._changed:
            self._opted_out.add(number)

    def opt_in(self, number: str) -> None:
        """``number`` texted START: sending to it works again."""
        with self._changed:
            self._opted_out.discard(number)

    @property
    def opted_out(self) -> frozenset[str]:
        with self._changed:
            return frozenset(self._opted_out)

    def fail_next(self, count: int = 1, *, status: int = 500) -> None:
        """Answer the next ``count`` API requests with ``status`` and Twilio's error 20500 (after any
        fault already waiting)."""
        with self._changed:
            self._faults.extend([status] * count)

    def drop_next(self, count: int = 1) -> None:
        """Close the connection of the next ``count`` API requests without answering: the SDK raises
        ``requests.ConnectionError``, as it does when Twilio cannot be reached."""
        with self._changed:
            self._faults.extend([None] * count)

    # --- Webhooks to the app -----------------------------------------------------------------------

    def signed_status_callback(self, message_sid: str, status: str, *, to_url: str | None = None,
                               error_code: int | None = None) -> TwilioWebhook:
        """Record ``status`` for the message and build its signed status callback (not sent).

        ``to_url`` defaults to the message's ``StatusCallback``. The message's recorded status only moves
        forward, as Twilio's does, but the callback says ``status``: so a test can deliver updates out of
        order. ``error_code`` defaults to 30003 for undelivered and 30008 for failed.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown message status {status!r}")
        with self._changed:
            message = self._messages[message_sid]
            url = to_url or message.status_callback
            if not url:
                raise ValueError(f"message {message_sid} has no StatusCallback; pass to_url")
            if status in _DEFAULT_ERROR:
                error_code = error_code or _DEFAULT_ERROR[status][0]
            self._advance(message, status, error_code)
            params = {
                "AccountSid": message.account_sid,
                "ApiVersion": API_VERSION,
                "From": message.from_ or "",
                "MessageSid": message.sid,
                "MessageStatus": status,
                "SmsSid": message.sid,
                "SmsStatus": status,
                "To": message.to,
            }
            if message.messaging_service_sid:
                params["MessagingServiceSid"] = message.messaging_service_sid
            if error_code is not None:
                params["ErrorCode"] = str(error_code)
            token = self._accounts[message.account_sid]
        return _signed(url, params, token)

    def send_status_callback(self, message_sid: str, status: str, *, to_url: str | None = None,
                             error_code: int | None = None) -> requests.Response:
        """POST the message's status callback now (see :meth:`signed_status_callback`); returns the app's
        response. Connection errors are raised: the test chose this moment."""
        return self.signed_status_callback(message_sid, status, to_url=to_url, error_code=error_code).send()

    def signed_inbound(self, from_number: str, body: str, to_url: str, *, to_number: str | None = None,
                       account_sid: str | None = None) -> TwilioWebhook:
        """Record a text from ``from_number`` and build the signed inbound webhook for ``to_url`` (not sent).

        ``to_number`` (the business's number) defaults to the sender of the last message sent to
        ``from_number``, else this server's ``phone_number``. A STOP or START word opts the number out or
        in before the webhook, as Twilio's default opt-out handling does, and ``OptOutType`` says so.
        """
        keyword = body.strip().upper()
        opt_out_type = ("STOP" if keyword in STOP_WORDS else "START" if keyword in START_WORDS
                        else "HELP" if keyword in HELP_WORDS else None)
        with self._changed:
            if to_number is None:
                earlier = [m for m in self._messages.values()
                           if m.direction != "inbound" and m.to == from_number]
                to_number = (earlier[-1].from_ if earlier else None) or self.phone_number
            account_sid = account_sid or self.account_sid
            if opt_out_type == "STOP":
                self._opted_out.add(from_number)
            elif opt_out_type == "START":
                self._opted_out.discard(from_number)
            message = SentMessage(sid=_sid("SM"), account_sid=account_sid, to=to_number, from_=from_number,
                                  body=body, status="received", direction="inbound",
                                  num_segments=segments(body))
            self._messages[message.sid] = message
            self._changed.notify_all()
            token = self._accounts[account_sid]
        params = {
            "AccountSid": account_sid,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": from_number,
            "MessageSid": message.sid,
            "NumMedia": "0",
            "NumSegments": str(message.num_segments),
            "SmsMessageSid": message.sid,
            "SmsSid": message.sid,
            "SmsStatus": "received",
            "To": to_number,
        }
        if opt_out_type:
            params["OptOutType"] = opt_out_type
        return _signed(to_url, params, token)

    def inbound(self, from_number: str, body: str, to_url: str, *, to_number: str | None = None,
                account_sid: str | None = None) -> requests.Response:
        """POST an inbound SMS webhook to the app now (see :meth:`signed_inbound`); returns its response."""
        return self.signed_inbound(from_number, body, to_url, to_number=to_number,
                                   account_sid=account_sid).send()

    # --- Inside the server -------------------------------------------------------------------------

    def _advance(self, message: SentMessage, status: str, error_code: int | None) -> None:
        if _STATUS_RANK.get(status, 0) <= _STATUS_RANK.get(message.status, 0):
            return
        message.status = status
        message.date_updated = _now()
        if status in ("sent", "delivered", "undelivered") and message.date_sent is None:
            message.date_sent = message.date_updated
        if error_code is not None:
            message.error_code = error_code
            message.error_message = _DEFAULT_ERROR.get(status, (None, None))[1]
        self._changed.notify_all()

    def _next_fault(self) -> tuple[bool, int | None]:
        with self._changed:
            if not self._faults:
                return False, None
            return True, self._faults.popleft()

    def _authenticate(self, header: str | None) -> str:
        """The account SID of valid basic credentials, else Twilio's 401."""
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                sid, _, token = base64.b64decode(encoded, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                sid = token = ""
            expected = self._accounts.get(sid)
            if expected is not None and hmac.compare_digest(token.encode(), expected.encode()):
                return sid
        raise TwilioError(20003, "Authenticate", 401,
                          detail="Your AccountSid or AuthToken was incorrect.")

    def _create_message(self, account_sid: str, form: dict[str, list[str]]) -> SentMessage:
        def value(name):
            return (form.get(name) or [""])[-1].strip()

        to, from_, body = value("To"), value("From"), (form.get("Body") or [""])[-1]
        service, callback = value("MessagingServiceSid"), value("StatusCallback")
        if not to:
            raise TwilioError(21604, "A 'To' phone number is required.")
        if not from_ and not service:
            raise TwilioError(21603, "A 'From' phone number is required.")
        if not body and not form.get("MediaUrl"):
            raise TwilioError(21602, "Message body is required.")
        if len(body) > MAX_BODY:
            raise TwilioError(21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in _MAGIC_TO:
            raise TwilioError(*_MAGIC_TO[to])
        if not _is_phone_number(to):
            raise TwilioError(21211, f"The 'To' number {to} is not a valid phone number.")
        if from_ in _MAGIC_FROM:
            raise TwilioError(*_MAGIC_FROM[from_])
        if from_ and not (_is_phone_number(from_) or _ALPHANUMERIC_SENDER.match(from_)):
            raise TwilioError(21212, f"The 'From' number {from_} is not a valid phone number, shortcode, "
                                     "or alphanumeric sender ID.")
        if service and not _MESSAGING_SERVICE_SID.match(service):
            raise TwilioError(21701, f"The Messaging Service Sid {service} is invalid.")
        if callback and urlsplit(callback).scheme not in ("http", "https"):
            raise TwilioError(21609, f"The StatusCallback URL {callback} is not a valid URL.")
        with self._changed:
            if to in self._opted_out:
                raise TwilioError(21610, "Attempt to send to unsubscribed recipient")
            message = SentMessage(
                sid=_sid("SM"), account_sid=account_sid, to=to, from_=from_ or self.phone_number, body=body,
                # Through a messaging service without a From, Twilio accepts first and picks a sender.
                status="queued" if from_ else "accepted", messaging_service_sid=service or None,
                status_callback=callback or None, num_segments=segments(body))
            self._messages[message.sid] = message
            self._changed.notify_all()
            generation = self._generation
        if self.auto_status:
            threading.Thread(target=self._walk_statuses, args=(message.sid, generation),
                             name=f"twilio-status-{message.sid}", daemon=True).start()
        return message

    def _walk_statuses(self, sid: str, generation: int) -> None:
        """The automatic mode: sent, then delivered, each a short delay apart, with their callbacks."""
        for status in ("sent", "delivered"):
            if self._stopping.wait(self.auto_status_delay):
                return
            with self._changed:
                message = self._messages.get(sid)
                if message is None or self._generation != generation:
                    return
                if message.status_callback is None:
                    self._advance(message, status, None)
                    continue
            try:
                self.send_status_callback(sid, status)
            except (requests.RequestException, KeyError) as e:
                log.warning("status callback for %s (%s) not delivered: %s", sid, status, e)

    def _list_messages(self, account_sid: str, query: dict[str, list[str]]) -> dict:
        def value(name):
            return (query.get(name) or [None])[-1]

        try:
            page_size = min(max(int(value("PageSize") or 50), 1), 1000)
            page = max(int(value("Page") or 0), 0)
        except ValueError:
            raise TwilioError(20001, "Invalid paging parameters") from None
        filters = {"to": value("To"), "from_": value("From")}
        with self._changed:
            # Twilio lists the newest first.
            found = [m.to_json() for m in reversed(self._messages.values())
                     if m.account_sid == account_sid
                     and all(want is None or getattr(m, name) == want for name, want in filters.items())]
        chunk = found[page * page_size:(page + 1) * page_size]
        base = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        kept = [(k, v) for k, v in (("To", filters["to"]), ("From", filters["from_"])) if v is not None]

        def page_uri(number):
            return base + "?" + urlencode([*kept, ("PageSize", page_size), ("Page", number)])

        has_more = (page + 1) * page_size < len(found)
        return {"messages": chunk, "end": page * page_size + max(len(chunk) - 1, 0),
                "first_page_uri": page_uri(0), "next_page_uri": page_uri(page + 1) if has_more else None,
                "page": page, "page_size": page_size,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "start": page * page_size, "uri": page_uri(page)}


def _signed(url: str, params: dict[str, str], token: str) -> TwilioWebhook:
    return TwilioWebhook(url, params, RequestValidator(token).compute_signature(url, params))


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so nothing lingers on a kept-alive socket once the server stops.
    twilio: TwilioTestServer  # set on the subclass made by TwilioTestServer.start

    def do_GET(self):  # noqa: N802 - http.server's handler protocol
        path = urlsplit(self.path).path
        if path in ("", "/"):
            with self.twilio._changed:
                numbers = sorted(self.twilio._inbound_urls)
            self._send_html(_messages_page(self.twilio._snapshot(), numbers))
            return
        self._api("GET")

    def do_POST(self):  # noqa: N802 - http.server's handler protocol
        path = urlsplit(self.path).path
        if path in ("/_config/numbers", "/_inbound"):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            self._configure(form) if path == "/_config/numbers" else self._text_the_app(form)
            return
        self._api("POST")

    def _configure(self, form: dict[str, str]) -> None:
        if not _is_phone_number(form.get("number", "")) or urlsplit(form.get("url", "")).scheme not in (
                "http", "https"):
            self._send(400, b"number (E.164) and url (http) are required", "text/plain")
            return
        self.twilio.set_inbound_url(form["number"], form["url"])
        self._send(204, b"", "text/plain")

    def _text_the_app(self, form: dict[str, str]) -> None:
        """The page's form: a customer texts a business's number; the signed webhook goes to the app."""
        url = self.twilio._inbound_urls.get(form.get("to", ""))
        sender, body = form.get("from", "").strip(), form.get("body", "")
        if url is None or not _is_phone_number(sender) or not body.strip():
            self._send(400, b"choose a number, and enter the sender (E.164) and a text", "text/plain")
            return
        try:
            self.twilio.inbound(sender, body, url, to_number=form["to"])
        except requests.RequestException as exc:
            log.warning("inbound text to %s not delivered: %s", url, exc)
        self._send(303, b"", "text/plain", {"Location": "/"})

    def _api(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        # Faults stand for Twilio's API being down; the demo page is not part of it.
        has_fault, fault = self.twilio._next_fault() if parts.path.startswith(f"/{API_VERSION}/") else (
            False, None)
        if has_fault and fault is None:
            # Nothing written: the client sees the connection close, as with a host that went away.
            self.close_connection = True
            return
        try:
            if has_fault:
                raise TwilioError(20500, "An internal server error has occurred", fault)
            self._route(method, parts.path, raw, parse_qs(parts.query, keep_blank_values=True))
        except TwilioError as e:
            self._send_json(e.status, e.body(),
                            {"WWW-Authenticate": 'Basic realm="Twilio API"'} if e.status == 401 else None)

    def _route(self, method: str, path: str, raw: bytes, query: dict[str, list[str]]) -> None:
        many, one = _MESSAGES.match(path), _MESSAGE.match(path)
        match = many or one
        if match is None or (one and method != "GET"):
            raise TwilioError(20404, f"The requested resource {path} was not found", 404)
        account_sid = self.twilio._authenticate(self.headers.get("Authorization"))
        if match["account"] != account_sid:
            raise TwilioError(20404, f"The requested resource {path} was not found", 404)
        if one:
            try:
                message = self.twilio.message(one["sid"])
            except KeyError:
                raise TwilioError(20404, f"The requested resource {path} was not found", 404) from None
            if message.account_sid != account_sid:
                raise TwilioError(20404, f"The requested resource {path} was not found", 404)
            self._send_json(200, message.to_json())
        elif method == "GET":
            self._send_json(200, self.twilio._list_messages(account_sid, query))
        else:
            form = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
            self._send_json(201, self.twilio._create_message(account_sid, form).to_json())

    def _send_json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

    def _send_html(self, page: str) -> None:
        self._send(200, page.encode(), "text/html; charset=utf-8",
                   {"Cache-Control": "no-store",
                    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Twilio-Request-Id", _sid("RQ"))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        if self.twilio._log_requests:
            log.info("%s %s", self.address_string(), format % args)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 16px; color: #1f2328; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e4e6ea; vertical-align: top; }
td.body { white-space: pre-wrap; } .muted { color: #59636e; } .error { color: #b00020; }
form.text { margin: 0 0 16px; padding: 8px; background: #f3f5f8; border-radius: 6px; }
"""


def _inbound_form(numbers: list[str], messages: list[SentMessage]) -> str:
    """A form to text a business's number as a customer (STOP, START, HELP or anything)."""
    if not numbers:
        return ""
    e = html.escape
    # Ready to answer the last text sent: from its recipient, to the number it came from.
    last = next((m for m in reversed(messages) if m.direction != "inbound"), None)
    last_customer = e(last.to) if last else ""
    options = "".join(f"<option{' selected' if last and n == last.from_ else ''}>{e(n)}</option>"
                      for n in numbers)
    return ("<form method='post' action='/_inbound' class='text'>"
            "<strong>Text a business as a customer:</strong>"
            f" <label>from <input name='from' value='{last_customer}' placeholder='+12125550142' required>"
            f"</label> <label>to <select name='to'>{options}</select></label> "
            "<label>text <input name='body' value='STOP' required></label> <button>Send</button></form>")


def _messages_page(messages: list[SentMessage], numbers: list[str] = ()) -> str:
    e = html.escape

    def row(m: SentMessage) -> str:
        status = e(m.status) + (f" <span class='error'>({m.error_code})</span>" if m.error_code else "")
        direction = "in" if m.direction == "inbound" else "out"
        return (f"<tr class='message {direction}'><td class='muted'>"
                f"{e(m.date_created.strftime('%Y-%m-%d %H:%M:%S'))} UTC</td>"
                f"<td>{direction}</td><td>{e(m.from_ or '')}</td><td>{e(m.to)}</td>"
                f"<td class='body'>{e(m.body)}</td><td>{status}</td></tr>")

    rows = "".join(row(m) for m in reversed(messages))
    table = (f"<table><tr><th>Time</th><th>Direction</th><th>From</th><th>To</th><th>Body</th>"
             f"<th>Status</th></tr>{rows}</table>" if rows
             else "<p class='muted'>No text messages yet. Messages sent by the app appear here.</p>")
    # Refreshed every few seconds, unless it holds a form someone may be typing in.
    refresh = "" if numbers else "<meta http-equiv='refresh' content='5'>"
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"{refresh}<title>Text messages</title>"
            f"<style>{_STYLE}</style></head><body><h1>Text messages</h1>{_inbound_form(numbers, messages)}"
            f"{table}</body></html>")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.testing.twilio_server",
                                     description="Local Twilio test server on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=12112)
    parser.add_argument("--account-sid", default=ACCOUNT_SID)
    parser.add_argument("--auth-token", default=AUTH_TOKEN)
    parser.add_argument("--auto-status", action=argparse.BooleanOptionalAction, default=True,
                        help="walk each message through sent and delivered, with status callbacks")
    parser.add_argument("--status-delay", type=float, default=1.0, help="seconds between status updates")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = TwilioTestServer(account_sid=args.account_sid, auth_token=args.auth_token,
                              auto_status=args.auto_status, auto_status_delay=args.status_delay,
                              log_requests=True).start(args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        print(f"Twilio test server listening on {server.base_url} (account {server.account_sid})", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
