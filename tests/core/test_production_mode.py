"""Production mode (SUPRATA_ENV=production: no /b/<slug>/ prefix, secure cookies): a business made with the
command line is served by its host name, and the links it emails lead back to it."""

from __future__ import annotations

import re

from core.notifications.outbox import deliver_due
from core.testing.background import run_background_work
from core.testing.helpers import csrf_token_from

HOST = "https://pay.acme.test"


def _cli(application, *args: str, input: str | None = None):
    result = application.test_cli_runner().invoke(args=["suprata", *args], input=input)
    assert result.exit_code == 0, result.output
    return result


def test_a_business_made_on_the_command_line_is_served_by_its_host_and_its_reset_link_works(
        production_app, mailbox):
    _cli(production_app, "create-business", "acme", "--name", "Acme Plumbing", "--host", "pay.acme.test",
         "--host", "acme.test")
    _cli(production_app, "create-staff", "--business", "acme", "--email", "dana@acme.test", "--name",
         "Dana Ortiz", "--password-stdin", input="correct horse battery\n")
    browser = production_app.test_client()
    forgot = f"{HOST}/console/forgot-password"
    assert browser.get("https://suprata.example.com/b/acme/console/forgot-password").status_code == 404

    page = browser.get(forgot)
    assert page.status_code == 200
    answer = browser.post(forgot, headers={"Referer": forgot},  # HTTPS forms must come from the same site
                          data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
                                "email": "dana@acme.test"})
    assert answer.status_code == 200 and "on its way" in answer.get_data(as_text=True)
    assert run_background_work(production_app).tasks == 1  # the worker looks the address up
    with production_app.app_context():
        deliver_due()

    [mail] = mailbox.wait_for(1)
    link = re.search(r"https://\S+/console/set-password/[A-Za-z0-9_\-]+", mailbox.text_of(mail)).group(0)
    assert link.startswith(f"{HOST}/console/set-password/")  # the business's primary host, no /b/<slug>
    set_password = production_app.test_client().get(link)
    assert set_password.status_code == 200
    assert "New password" in set_password.get_data(as_text=True)
    assert "dana@acme.test" in set_password.get_data(as_text=True)
