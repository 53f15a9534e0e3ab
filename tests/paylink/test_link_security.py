"""What a pay link gives away: nothing to a guess, nothing to caches or referrers, and not quickly."""

from datetime import timedelta

import pytest

from core.extensions import db
from core.models import Invoice
from core.money.invoicing import issue_pay_link, revoke_pay_links
from core.tenancy import utcnow
from core.testing.helpers import without_nonces
from core.testing.records import issue_invoice


def _mutations(token: str) -> list[str]:
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    return [flipped, token[:-1], token + "x", token.swapcase(), token[::-1], "0" * len(token), "x", "%00"]


def test_unknown_mutated_revoked_and_expired_tokens_all_get_the_same_404(app, client, shop, in_business):
    invoice_id, token = issue_invoice(app, shop)
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        expired = issue_pay_link(invoice, expires_at=utcnow() - timedelta(minutes=1))
        revoked = issue_pay_link(invoice)
        db.session.commit()
        revoke_pay_links(invoice)
        live = issue_pay_link(invoice)
        db.session.commit()
    assert client.get(f"/b/acme/pay/{live}").status_code == 200

    responses = [client.get(f"/b/acme/pay/{bad}") for bad in [*_mutations(live), token, revoked, expired]]

    assert {r.status_code for r in responses} == {404}
    bodies = {without_nonces(r.get_data(as_text=True)) for r in responses}
    assert len(bodies) == 1
    body = bodies.pop()
    assert "This link is not valid" in body
    assert "+1 555 0100" in body and "office@acme.test" in body
    assert "INV-0001" not in body and "Pat Jones" not in body


@pytest.mark.parametrize("suffix", ["", "/receipt", "/print", "/return?payment=1"])
def test_every_page_behind_a_bad_token_is_the_same_404(app, client, shop, suffix):
    issue_invoice(app, shop)
    reference = without_nonces(client.get("/b/acme/pay/not-a-token").get_data(as_text=True))

    response = client.get(f"/b/acme/pay/not-a-token{suffix}")

    assert response.status_code == 404
    assert without_nonces(response.get_data(as_text=True)) == reference


def test_every_pay_link_response_is_private(app, client, shop):
    _, token = issue_invoice(app, shop)
    responses = [
        client.get(f"/b/acme/pay/{token}"),
        client.get(f"/b/acme/pay/{token}/print"),
        client.get(f"/b/acme/pay/{token}/receipt"),  # not paid yet: a redirect
        client.get("/b/acme/pay/unknown-token"),
        client.post(f"/b/acme/pay/{token}/checkout"),  # no CSRF token: refused
    ]

    assert [r.status_code for r in responses] == [200, 200, 302, 404, 400]
    for response in responses:
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_guessing_tokens_is_rate_limited(app, client, shop):
    _, token = issue_invoice(app, shop)
    allowed = int(app.config["SUPRATA_PAYLINK_RATE_LIMIT"].split()[0])

    statuses = [client.get(f"/b/acme/pay/guess-{n}").status_code for n in range(allowed)]
    blocked = client.get(f"/b/acme/pay/{token}")

    assert set(statuses) == {404}
    assert blocked.status_code == 429
    assert blocked.headers["Cache-Control"] == "no-store"
    assert blocked.headers["Referrer-Policy"] == "no-referrer"
    # Another address is not affected.
    assert client.get(f"/b/acme/pay/{token}", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
