"""The customer's texts page, in Chromium: it passes an axe-core scan with no serious or critical violation
and breaks no rule of its Content-Security-Policy, before and after a code is asked for."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

from core.testing.helpers import sign_in_customer

BLOCKING = {"serious", "critical"}


class CookieJar:
    """What ``sign_in_customer`` leaves on a test client, kept to hand to the browser instead."""

    def __init__(self):
        self.cookies = []

    def set_cookie(self, key, value, path="/"):
        self.cookies.append({"name": key, "value": value, "path": path})


def test_the_texts_page_passes_axe_and_its_policy(app, served_app, browser, acme, ann, twilio):
    jar = CookieJar()
    sign_in_customer(app, jar, acme, ann, email="ann@example.test")
    context = browser.new_context()
    context.add_cookies([{**cookie, "domain": "127.0.0.1"} for cookie in jar.cookies])
    page = context.new_page()
    breaches = []
    page.on("console", lambda message: breaches.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{served_app.url}/b/acme/texts/")
    assert page.locator("h1").inner_text() == "Texts and alerts"
    page.click("text=Text me a code")  # the unverified home number
    assert "We texted a new code" in page.content()
    problems = [f"{violation['id']} ({violation['impact']}) at {[n['target'] for n in violation['nodes']]}"
                for violation in Axe().run(page).response["violations"] if violation["impact"] in BLOCKING]
    context.close()
    assert problems == []
    assert breaches == []
