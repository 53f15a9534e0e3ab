"""The demo's mailbox server, run as the README runs it: mail in over SMTP, read it on the web page."""

import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

from core.testing.postgres import free_port

REPOSITORY = Path(__file__).resolve().parents[2]


def wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a fixed local URL
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def mailbox_server(tmp_path):
    smtp_port, http_port = free_port(), free_port()
    command = [sys.executable, "-m", "demo.mailbox_server", "--smtp-port", str(smtp_port),
               "--http-port", str(http_port), "--directory", str(tmp_path / "mailbox")]
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        command, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until_listening(http_port, process)
        yield smtp_port, f"http://127.0.0.1:{http_port}", tmp_path / "mailbox"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # never leave it running for later tests to trip over
            process.communicate()
            raise


def test_received_mail_is_stored_and_readable_with_its_html_defused(mailbox_server):
    smtp_port, base_url, directory = mailbox_server
    email = EmailMessage()
    email["From"], email["To"] = "Acme <billing@acme.test>", "jordan@example.com"
    email["Subject"] = "Invoice 42"
    email.set_content("Pay here: http://suprata.test/pay/abc")
    email.add_alternative('<p onclick="steal()">Hello</p><script>steal()</script><a href="http://x.test/">Pay</a>',
                          subtype="html")
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as smtp:
        smtp.send_message(email)

    [stored] = directory.glob("*.eml")
    status, listing = fetch(base_url + "/")
    assert status == 200
    assert "jordan@example.com" in listing and f"/m/{stored.name}" in listing and "Invoice 42" in listing

    status, page = fetch(f"{base_url}/m/{stored.name}")
    assert status == 200
    assert '<a href="http://suprata.test/pay/abc"' in page  # the text version's link is clickable
    assert "sandbox='allow-popups allow-popups-to-escape-sandbox'" in page
    assert "steal" not in page  # script and event handler removed from the HTML version
    assert "&lt;a href=&quot;http://x.test/&quot;" in page  # kept, inside the frame's srcdoc


def test_only_stored_messages_can_be_opened(mailbox_server):
    _, base_url, _ = mailbox_server
    assert fetch(base_url + "/m/../../etc/passwd")[0] == 404
    assert fetch(base_url + "/m/1-00000000.eml")[0] == 404


def test_webhooks_posted_to_it_are_kept_and_shown_with_their_headers(mailbox_server):
    _, base_url, directory = mailbox_server
    request = urllib.request.Request(  # noqa: S310 - a fixed local URL
        f"{base_url}/webhooks/acme-loyalty", data=b'{"points": 123, "note": "<b>hi</b>"}', method="POST",
        headers={"Content-Type": "application/json", "X-Loyalty-Signature": "sha256=abc",
                 "Idempotency-Key": "loyalty-1-7", "Cookie": "not kept"})
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - a fixed local URL
        assert response.status == 200

    status, page = fetch(base_url + "/webhooks")
    assert status == 200
    assert "acme-loyalty" in page and "&quot;points&quot;: 123" in page
    assert "&lt;b&gt;hi&lt;/b&gt;" in page  # escaped, never markup
    assert "sha256=abc" in page and "loyalty-1-7" in page and "not kept" not in page
    assert len(list((directory / "webhooks").glob("*.json"))) == 1
    assert fetch(base_url + "/")[1].count("/webhooks") == 1  # linked from the mailbox


def test_only_webhooks_with_a_plain_name_are_caught(mailbox_server):
    _, base_url, _ = mailbox_server
    request = urllib.request.Request(f"{base_url}/webhooks/../../x", data=b"{}", method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - a fixed local URL
    refused.value.close()
    assert refused.value.code == 404
