"""The local Twilio test server, driven only through the real twilio SDK and plain HTTP."""

import http.server
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from core.testing.postgres import free_port
from core.testing.twilio_server import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PHONE_NUMBER,
    LocalTwilioHttpClient,
    TwilioTestServer,
    segments,
)

CUSTOMER = "+15551230001"


class AppEndpoint:
    """Stands in for the app's Twilio webhooks: checks each request's signature and keeps it."""

    def __init__(self, token=AUTH_TOKEN, reply="<Response/>"):
        self.requests = []
        self._changed = threading.Condition()
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's handler protocol
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                params = dict(parse_qsl(body, keep_blank_values=True))
                url = f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"
                valid = RequestValidator(token).validate(url, params, self.headers.get("X-Twilio-Signature"))
                with endpoint._changed:
                    endpoint.requests.append((self.path, params, valid))
                    endpoint._changed.notify_all()
                answer = reply.encode()
                self.send_response(200 if valid else 403)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def wait_for(self, count, timeout=5):
        with self._changed:
            self._changed.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture(scope="module")
def server():
    instance = TwilioTestServer().start()
    yield instance
    instance.stop()


@pytest.fixture
def twilio(server):
    server.reset()
    return server.client()


@pytest.fixture
def app_endpoint():
    endpoint = AppEndpoint(reply="<Response><Message>Thanks!</Message></Response>")
    yield endpoint
    endpoint.stop()


def send(client, to=CUSTOMER, body="Your technician is on the way.", **extra):
    return client.messages.create(to=to, from_=PHONE_NUMBER, body=body, **extra)


# --- Sending -----------------------------------------------------------------------------------------

def test_a_message_is_accepted_with_twilios_answer_and_recorded(twilio, server):
    message = send(twilio, body="Hi Pat, your visit is confirmed for 9:00.")

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert (message.status, message.to, message.from_) == ("queued", CUSTOMER, PHONE_NUMBER)
    assert message.body == "Hi Pat, your visit is confirmed for 9:00."
    assert (message.num_segments, message.direction) == ("1", "outbound-api")
    assert message.account_sid == ACCOUNT_SID
    assert message.date_created.tzinfo is not None
    assert message.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message.sid}.json"
    assert message.error_code is None
    recorded = server.messages
    assert [(m.sid, m.to, m.from_, m.body, m.status) for m in recorded] == [
        (message.sid, CUSTOMER, PHONE_NUMBER, message.body, "queued")]
    assert server.to(CUSTOMER)[0].sid == message.sid


def test_messages_can_be_fetched_and_listed_newest_first(twilio):
    first = send(twilio, body="one")
    second = send(twilio, to="+15551230002", body="two")
    third = send(twilio, body="three")

    assert twilio.messages(first.sid).fetch().body == "one"
    assert [m.sid for m in twilio.messages.list()] == [third.sid, second.sid, first.sid]
    assert [m.sid for m in twilio.messages.list(to=CUSTOMER)] == [third.sid, first.sid]
    # Paging follows next_page_uri, as the SDK does against Twilio.
    assert [m.sid for m in twilio.messages.list(page_size=1)] == [third.sid, second.sid, first.sid]
    with pytest.raises(TwilioRestException) as raised:
        twilio.messages("SM" + "0" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)


def test_a_messaging_service_is_accepted_and_picks_the_sender(twilio, server):
    service = "MG" + "ab" * 16

    message = twilio.messages.create(to=CUSTOMER, messaging_service_sid=service, body="Reminder")

    assert (message.status, message.from_, message.messaging_service_sid) == ("accepted", None, service)
    assert server.messages[0].from_ == PHONE_NUMBER


def test_segments_are_counted_as_twilio_bills_them():
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3
    assert segments("€" * 80) == 1  # two septets each in GSM-7
    assert segments("€" * 81) == 2
    assert segments("é" * 160) == 1  # é is in the GSM-7 set
    assert segments("ł" * 70) == 1  # not GSM-7: UCS-2
    assert segments("ł" * 71) == 2
    assert segments("👍" * 35) == 1  # two UTF-16 units each


def test_a_long_message_reports_its_segments(twilio):
    assert send(twilio, body="x" * 200).num_segments == "2"


# --- Errors, in Twilio's shape -----------------------------------------------------------------------

def test_wrong_credentials_get_twilios_401(server, twilio):
    wrong = Client(ACCOUNT_SID, "0" * 32, http_client=server.http_client())

    with pytest.raises(TwilioRestException) as raised:
        send(wrong)

    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert server.messages == []
    anonymous = requests.post(f"{server.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
                              data={"To": CUSTOMER, "From": PHONE_NUMBER, "Body": "x"}, timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'
    assert anonymous.json()["more_info"] == "https://www.twilio.com/docs/errors/20003"


def test_another_accounts_messages_are_not_found(server, twilio):
    other_sid = "AC" + "9" * 32
    with pytest.raises(TwilioRestException) as raised:
        send(Client(ACCOUNT_SID, AUTH_TOKEN, account_sid=other_sid, http_client=server.http_client()))
    assert (raised.value.status, raised.value.code) == (404, 20404)


def test_a_second_account_sees_only_its_own_messages(server, twilio):
    other_sid, other_token = "AC" + "7" * 32, "7" * 32
    server.add_account(other_sid, other_token)
    other = server.client(other_sid)

    mine, theirs = send(twilio, body="acme"), send(other, body="globex")

    assert theirs.account_sid == other_sid
    assert [m.sid for m in twilio.messages.list()] == [mine.sid]
    assert [m.sid for m in other.messages.list()] == [theirs.sid]


@pytest.mark.parametrize(("fields", "code"), [
    ({"to": "555-0100"}, 21211),
    ({"to": "+0123"}, 21211),
    ({"to": ""}, 21604),
    ({"body": ""}, 21602),
    ({"body": "x" * 1601}, 21617),
    ({"from_": "not a number!"}, 21212),
    ({"status_callback": "ftp://example.test/cb"}, 21609),
    ({"to": "+15005550001"}, 21211),
    ({"to": "+15005550002"}, 21612),
    ({"to": "+15005550003"}, 21408),
    ({"to": "+15005550004"}, 21610),
    ({"to": "+15005550009"}, 21614),
    ({"from_": "+15005550001"}, 21212),
    ({"from_": "+15005550007"}, 21606),
])
def test_invalid_requests_raise_twilios_error_codes(twilio, server, fields, code):
    params = {"to": CUSTOMER, "from_": PHONE_NUMBER, "body": "Hello"} | fields

    with pytest.raises(TwilioRestException) as raised:
        twilio.messages.create(**params)

    assert (raised.value.status, raised.value.code) == (400, code)
    assert server.messages == []


def test_a_message_needs_a_sender_or_a_messaging_service(twilio):
    with pytest.raises(TwilioRestException) as raised:
        twilio.messages.create(to=CUSTOMER, body="Hello")
    assert raised.value.code == 21603


def test_an_opted_out_number_gets_21610_until_it_opts_in_again(twilio, server):
    server.opt_out(CUSTOMER)

    with pytest.raises(TwilioRestException) as raised:
        send(twilio)

    error = raised.value
    assert (error.status, error.code) == (400, 21610)
    assert "unsubscribed" in error.msg
    assert server.messages == []
    assert send(twilio, to="+15551230002").status == "queued"  # only that number
    server.opt_in(CUSTOMER)
    assert send(twilio).status == "queued"


# --- Outages ------------------------------------------------------------------------------------------

def test_fail_next_answers_500_then_recovers(twilio, server):
    server.fail_next(2)

    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            send(twilio)
        assert (raised.value.status, raised.value.code) == (500, 20500)

    assert send(twilio).status == "queued"
    assert len(server.messages) == 1


def test_fail_next_can_answer_another_status(twilio, server):
    server.fail_next(status=503)

    with pytest.raises(TwilioRestException) as raised:
        send(twilio)

    assert raised.value.status == 503


def test_drop_next_makes_the_api_unreachable_for_that_many_requests(twilio, server):
    server.drop_next(1)
    server.fail_next(1)

    with pytest.raises(requests.ConnectionError):
        send(twilio)
    with pytest.raises(TwilioRestException):
        send(twilio)

    assert send(twilio).status == "queued"
    assert len(server.messages) == 1


def test_faults_leave_the_demo_page_alone(server, twilio):
    server.drop_next(1)

    assert requests.get(server.base_url + "/", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        send(twilio)


def test_a_stopped_server_is_unreachable():
    instance = TwilioTestServer().start()
    client = instance.client()
    instance.stop()

    with pytest.raises(requests.ConnectionError):
        send(client)


# --- Status callbacks ----------------------------------------------------------------------------------

def test_status_callbacks_are_signed_and_sent_when_the_test_says(twilio, server, app_endpoint):
    message = send(twilio, status_callback=f"{app_endpoint.url}/sms/status?business=acme")

    assert app_endpoint.requests == []  # nothing until the test chooses
    sent = server.send_status_callback(message.sid, "sent")
    server.send_status_callback(message.sid, "delivered")

    assert sent.status_code == 200
    (path, first, valid), (_, second, valid_too) = app_endpoint.wait_for(2)
    assert path == "/sms/status?business=acme"
    assert valid and valid_too
    assert first == {"MessageSid": message.sid, "SmsSid": message.sid, "MessageStatus": "sent",
                     "SmsStatus": "sent", "To": CUSTOMER, "From": PHONE_NUMBER, "AccountSid": ACCOUNT_SID,
                     "ApiVersion": "2010-04-01"}
    assert second["MessageStatus"] == "delivered" and "ErrorCode" not in second
    fetched = twilio.messages(message.sid).fetch()
    assert fetched.status == "delivered"
    assert fetched.date_sent is not None


def test_callbacks_can_arrive_out_of_order_and_the_status_keeps_moving_forward(twilio, server, app_endpoint):
    message = send(twilio, status_callback=f"{app_endpoint.url}/sms/status")

    server.send_status_callback(message.sid, "delivered")
    server.send_status_callback(message.sid, "sent")

    assert [p["MessageStatus"] for _, p, _ in app_endpoint.wait_for(2)] == ["delivered", "sent"]
    assert twilio.messages(message.sid).fetch().status == "delivered"
    assert server.messages[0].status == "delivered"


@pytest.mark.parametrize(("status", "error_code", "expected"), [
    ("failed", None, "30008"),
    ("undelivered", None, "30003"),
    ("undelivered", 30005, "30005"),
])
def test_failed_deliveries_carry_an_error_code(twilio, server, app_endpoint, status, error_code, expected):
    message = send(twilio, status_callback=f"{app_endpoint.url}/sms/status")

    server.send_status_callback(message.sid, status, error_code=error_code)

    (_, params, valid), = app_endpoint.wait_for(1)
    assert valid
    assert (params["MessageStatus"], params["ErrorCode"]) == (status, expected)
    fetched = twilio.messages(message.sid).fetch()
    assert (fetched.status, fetched.error_code) == (status, int(expected))


def test_a_callback_can_go_to_another_url(twilio, server, app_endpoint):
    message = send(twilio)

    with pytest.raises(ValueError, match="StatusCallback"):
        server.send_status_callback(message.sid, "sent")
    server.send_status_callback(message.sid, "sent", to_url=f"{app_endpoint.url}/elsewhere")

    (path, params, valid), = app_endpoint.wait_for(1)
    assert (path, params["MessageStatus"], valid) == ("/elsewhere", "sent", True)


def test_a_signed_callback_is_signed_with_the_auth_token_only(twilio, server):
    message = send(twilio, status_callback="https://app.test/sms/status")

    webhook = server.signed_status_callback(message.sid, "delivered")

    assert webhook.path == "/sms/status"
    assert webhook.headers["X-Twilio-Signature"] == webhook.signature
    assert RequestValidator(AUTH_TOKEN).validate(webhook.url, webhook.params, webhook.signature)
    assert not RequestValidator("0" * 32).validate(webhook.url, webhook.params, webhook.signature)
    assert not RequestValidator(AUTH_TOKEN).validate("https://app.test/other", webhook.params,
                                                     webhook.signature)
    tampered = webhook.params | {"MessageStatus": "failed"}
    assert not RequestValidator(AUTH_TOKEN).validate(webhook.url, tampered, webhook.signature)


def test_automatic_mode_walks_each_message_to_delivered(app_endpoint):
    with TwilioTestServer(auto_status=True, auto_status_delay=0.05) as auto:
        client = auto.client()
        message = send(client, status_callback=f"{app_endpoint.url}/sms/status")
        silent = send(client, to="+15551230002")  # no callback: the status still moves on

        statuses = [p["MessageStatus"] for _, p, _ in app_endpoint.wait_for(2)]
        deadline = time.monotonic() + 5
        while auto.message(silent.sid).status != "delivered" and time.monotonic() < deadline:
            time.sleep(0.02)

        assert statuses == ["sent", "delivered"]
        assert all(valid for _, _, valid in app_endpoint.requests)
        assert client.messages(message.sid).fetch().status == "delivered"
        assert auto.message(silent.sid).status == "delivered"


# --- Inbound messages ----------------------------------------------------------------------------------

def test_an_inbound_text_is_posted_signed_and_the_apps_answer_returned(twilio, server, app_endpoint):
    business_number = "+15005550010"
    twilio.messages.create(to=CUSTOMER, from_=business_number, body="Reply YES to confirm")

    response = server.inbound(CUSTOMER, "What time?", f"{app_endpoint.url}/sms/inbound")

    assert response.status_code == 200
    assert "<Message>Thanks!</Message>" in response.text
    (path, params, valid), = app_endpoint.wait_for(1)
    assert (path, valid) == ("/sms/inbound", True)
    assert params["From"] == CUSTOMER and params["To"] == business_number  # the number that wrote to them
    assert (params["Body"], params["NumSegments"], params["AccountSid"]) == ("What time?", "1", ACCOUNT_SID)
    assert re.fullmatch(r"SM[0-9a-f]{32}", params["MessageSid"])
    assert "OptOutType" not in params
    assert [(m.from_, m.body) for m in server.received] == [(CUSTOMER, "What time?")]
    assert len(server.messages) == 1  # inbound texts are not what the app sent


def test_stop_opts_the_number_out_before_the_app_hears_of_it_and_start_opts_in(twilio, server, app_endpoint):
    server.inbound(CUSTOMER, " stop ", f"{app_endpoint.url}/sms/inbound")

    assert CUSTOMER in server.opted_out
    with pytest.raises(TwilioRestException) as raised:
        send(twilio)
    assert raised.value.code == 21610

    server.inbound(CUSTOMER, "START", f"{app_endpoint.url}/sms/inbound")
    server.inbound(CUSTOMER, "help", f"{app_endpoint.url}/sms/inbound")

    assert CUSTOMER not in server.opted_out
    assert send(twilio).status == "queued"
    types = [(p["Body"], p.get("OptOutType")) for _, p, _ in app_endpoint.wait_for(3)]
    assert types == [(" stop ", "STOP"), ("START", "START"), ("help", "HELP")]
    # Nobody wrote to them first, so they texted the server's default number.
    assert {p["To"] for _, p, _ in app_endpoint.requests} == {PHONE_NUMBER}


def test_a_signed_inbound_request_can_be_handed_to_a_test_client(server):
    webhook = server.signed_inbound(CUSTOMER, "STOP", "http://suprata.test/b/acme/sms/inbound?x=1",
                                    to_number="+15005550010")

    assert webhook.path == "/b/acme/sms/inbound?x=1"
    assert RequestValidator(AUTH_TOKEN).validate(webhook.url, webhook.params, webhook.signature)
    assert webhook.params["To"] == "+15005550010"
    assert CUSTOMER in server.opted_out
    server.opt_in(CUSTOMER)


# --- The demo page, the SDK's transport, lifecycle -------------------------------------------------------

def test_the_page_lists_every_message_newest_first_escaped(twilio, server):
    send(twilio, body="first")
    send(twilio, to="+15551230002", body="<script>alert(1)</script> & more")
    server.signed_inbound(CUSTOMER, "Running late?", "https://app.test/sms/inbound")

    page = requests.get(server.base_url + "/", timeout=5)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page.text
    assert page.text.index("&lt;script&gt;") < page.text.index("first")
    assert "+15551230002" in page.text and "queued" in page.text and "UTC" in page.text
    assert page.text.index("Running late?") < page.text.index("&lt;script&gt;")
    assert "<tr class='message in'>" in page.text


def test_the_page_texts_the_app_as_a_customer(twilio, server, app_endpoint):
    number = "+12125550100"
    for registered in (number, "+12125550101"):
        answer = requests.post(server.base_url + "/_config/numbers", timeout=5,
                               data={"number": registered, "url": app_endpoint.url + "/sms/inbound"})
        assert answer.status_code == 204
    twilio.messages.create(to=CUSTOMER, from_=number, body="Your appointment is tomorrow")
    page = requests.get(server.base_url + "/", timeout=5).text
    assert "Text a business as a customer" in page
    assert f"<option selected>{number}</option>" in page and "<option>+12125550101</option>" in page
    assert f"value='{CUSTOMER}'" in page  # the last customer texted, ready to answer
    assert "http-equiv='refresh'" not in page  # the form is not reset while someone types

    answer = requests.post(server.base_url + "/_inbound", timeout=5, allow_redirects=False,
                           data={"from": CUSTOMER, "to": number, "body": "STOP"})
    assert (answer.status_code, answer.headers["Location"]) == (303, "/")
    [(path, params, valid)] = app_endpoint.wait_for(1)
    assert (path, params["Body"], params["From"], params["To"], valid) == ("/sms/inbound", "STOP", CUSTOMER,
                                                                           number, True)
    assert CUSTOMER in server.opted_out
    bad = requests.post(server.base_url + "/_inbound", data={"from": CUSTOMER, "to": "+19999", "body": "x"},
                        timeout=5)
    assert bad.status_code == 400


def test_the_page_says_when_nothing_was_sent(twilio, server):
    assert "No text messages yet" in requests.get(server.base_url + "/", timeout=5).text


def test_the_transport_sends_every_twilio_host_here_and_refuses_others(server):
    transport = LocalTwilioHttpClient(server.base_url)

    assert transport.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=5") == (
        f"{server.base_url}/2010-04-01/Accounts/AC1/Messages.json?PageSize=5")
    assert transport.rewrite("https://messaging.twilio.com/v1/Services").startswith(server.base_url)
    for url in ("https://example.com/2010-04-01/x", "https://twilio.com.evil.test/x", "https://eviltwilio.com/"):
        with pytest.raises(ValueError, match="not a Twilio URL"):
            transport.rewrite(url)


def test_messages_sent_at_once_from_many_threads_are_all_recorded(twilio, server):
    with ThreadPoolExecutor(max_workers=6) as pool:
        sids = list(pool.map(lambda n: send(twilio, body=f"message {n}").sid, range(30)))

    assert len(set(sids)) == 30
    assert sorted(m.sid for m in server.messages) == sorted(sids)


def test_reset_forgets_messages_opt_outs_and_faults(twilio, server):
    send(twilio)
    server.opt_out("+15551230002")
    server.fail_next(3)

    server.reset()

    assert (server.messages, server.opted_out) == ([], frozenset())
    assert send(twilio, to="+15551230002").status == "queued"


def test_a_server_can_be_stopped_and_started_again():
    instance = TwilioTestServer()
    for _ in range(2):
        with instance:
            assert send(instance.client()).status == "queued"
    assert instance.port is None
    with pytest.raises(RuntimeError, match="not running"):
        _ = instance.base_url


def test_the_command_line_serves_on_the_given_port():
    port = free_port()
    command = [sys.executable, "-m", "core.testing.twilio_server", "--port", str(port), "--no-auto-status"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,  # noqa: S603
                          text=True) as process:
        try:
            assert f"listening on http://127.0.0.1:{port}" in process.stdout.readline()
            base_url = f"http://127.0.0.1:{port}"
            client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=LocalTwilioHttpClient(base_url))
            message = send(client, body="From the demo")
            assert "From the demo" in requests.get(f"{base_url}/", timeout=5).text
            assert client.messages(message.sid).fetch().status == "queued"
        finally:
            process.terminate()
