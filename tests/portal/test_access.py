"""What a customer may reach: only their own records (another customer's or another business's ids answer 404,
like ids that do not exist), never a draft, and never a staff-only field, on any page or in any file."""

from __future__ import annotations

import io
import re
from urllib.parse import urljoin

import pytest
from pypdf import PdfReader

from core.testing.helpers import create_customer_login, csrf_token_from, login_customer, without_nonces
from tests.portal import records
from tests.portal.conftest import PASSWORD, add_customer

TABS = ["/portal/invoices", "/portal/jobs", "/portal/jobs/request", "/portal/reservations",
        "/portal/agreements", "/portal/activity", "/account/"]


@pytest.fixture
def seeded(app, acme, globex, maria, maria_login, in_business):
    """Maria's records, another Acme customer's (Jo's), and a Globex customer's."""
    with in_business(acme):
        mine = records.fill(maria, "maria")
    jo = add_customer(in_business, acme, "Jo Lee", "jo@example.com")
    with in_business(acme):
        theirs = records.fill(jo, "jo")
    gus = add_customer(in_business, globex, "Gus Green", "maria@example.com")
    create_customer_login(app, globex, gus, email="maria@example.com", password=PASSWORD)
    with in_business(globex):
        elsewhere = records.fill(gus, "gus")
    return mine, theirs, elsewhere


@pytest.fixture
def logged_in(client, acme, seeded):
    assert login_customer(client, acme, email="maria@example.com", password=PASSWORD).status_code == 302
    return client


def test_another_customers_and_another_businesss_records_answer_404(logged_in, seeded):
    mine, theirs, elsewhere = seeded
    for path in mine.urls():
        assert logged_in.get(f"/b/acme{path}").status_code in (200, 302), path
    missing = logged_in.get("/b/acme/portal/invoices/999999")
    assert missing.status_code == 404
    token = csrf_token_from(logged_in.get("/b/acme/portal/jobs").get_data(as_text=True))
    for other in (theirs, elsewhere):
        for path in other.urls():
            response = logged_in.get(f"/b/acme{path}")
            assert response.status_code == 404, path
            assert without_nonces(response.get_data(as_text=True)) == without_nonces(
                missing.get_data(as_text=True)), path
        for path in other.post_urls():
            assert logged_in.post(f"/b/acme{path}", data={"csrf_token": token}).status_code == 404, path


def test_drafts_stay_the_business_s_own(logged_in, seeded):
    mine, _, _ = seeded
    assert logged_in.get(f"/b/acme/portal/invoices/{mine.invoices['draft']}").status_code == 404
    listing = logged_in.get("/b/acme/portal/invoices").get_data(as_text=True)
    assert "Drain repair maria draft" not in listing and "MARIA-0004" not in listing


def test_a_login_at_one_business_reaches_nothing_at_another(app, seeded, logged_in):
    _, _, elsewhere = seeded
    cookie = logged_in.get_cookie("suprata_customer", path="/b/acme/").value
    other = app.test_client()
    other.set_cookie("suprata_customer", cookie, path="/b/globex/")
    for path in elsewhere.urls():
        assert other.get(f"/b/globex{path}").status_code == 302, path


def _text_of(response) -> str:
    if response.mimetype == "application/pdf":
        reader = PdfReader(io.BytesIO(response.get_data()))
        return "\n".join(page.extract_text() for page in reader.pages)
    return response.get_data(as_text=True)


LEAKS = re.compile(rf"{records.STAFF_ONLY}|8,765\.43|8765\.43|{records.SECRET_COST}|7,654\.32|7654\.32|"
                   rf"{records.SECRET_JOB_COST}")


def test_no_staff_only_field_reaches_any_portal_page_or_file(logged_in, seeded):
    """Crawl every portal page and file Maria can reach, following links, and look for the markers."""
    mine, _, _ = seeded
    start = [f"/b/acme{path}" for path in TABS + mine.urls()]
    seen, queue, scanned = set(), list(start), []
    while queue:
        path = queue.pop()
        if path in seen or "/logout" in path:
            continue
        seen.add(path)
        response = logged_in.get(path)
        if response.status_code != 200:
            continue
        text = _text_of(response)
        scanned.append((path, response.mimetype))
        assert not LEAKS.search(text), (path, LEAKS.search(text).group(0))
        if response.mimetype == "text/html":
            for link in re.findall(r'href="([^"#]+)"', text):
                target = urljoin(path, link.replace("&amp;", "&"))
                if target.startswith(("/b/acme/portal/", "/b/acme/account/")):
                    queue.append(target)
    kinds = {mimetype for _, mimetype in scanned}
    assert {"text/html", "application/pdf"} <= kinds
    assert len([p for p, m in scanned if m == "application/pdf"]) >= 3  # invoice, receipt, agreement
    assert any("/portal/invoices/" in p and p.endswith(str(mine.invoices["paid"])) for p, _ in scanned)


def test_the_scan_would_see_a_leak(app, acme, seeded, logged_in, staff_member):
    """The markers are where staff see them, and the scan reads the text inside PDF files."""
    from core.testing.helpers import login_staff

    mine, _, _ = seeded
    console = app.test_client()
    login_staff(console, acme)
    staff_page = console.get(f"/b/acme/console/customers/{mine.customer_id}").get_data(as_text=True)
    assert LEAKS.search(staff_page)
    pdf = logged_in.get(f"/b/acme/portal/invoices/{mine.invoices['open']}/invoice.pdf")
    assert "MARIA-0001" in _text_of(pdf) and "Drain repair maria open" in _text_of(pdf)
