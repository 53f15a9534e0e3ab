"""Telling the business's own systems when a customer earns points: a signed JSON POST to its webhook, sent
in the background so a slow or broken endpoint never holds up a payment.

``announce`` queues the POST in the transaction that records the points, so the news is sent once those
points are committed, and never for points that were rolled back. The worker runs :func:`post_points`
inside the business; if the endpoint fails, core retries it with growing waits, and after the last attempt
staff see it on the plugins page, where they can retry it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request

from core.plugin_api import Customer, Invoice, background_task, current_business, db, utcnow
from suprata_loyalty.models import LoyaltyPoints
from suprata_loyalty.settings import webhook

TIMEOUT_SECONDS = 10


def announce(row: LoyaltyPoints) -> None:
    """Queue the POST about newly earned points, if the business has a webhook (the row must be flushed)."""
    url, _ = webhook()
    if url:
        post_points.enqueue(row.id)


@background_task(max_attempts=6)
def post_points(points_id: int) -> None:
    """POST the news about one row of points; raising makes core try again later."""
    row = db.session.get(LoyaltyPoints, points_id)
    url, secret = webhook()
    if row is None or row.announced_at is not None or not url:
        return  # deleted, already accepted, or the business removed its webhook since
    body = json.dumps(payload(row)).encode()
    headers = {"Content-Type": "application/json",
               # The same for every attempt, so the receiver can tell a retry from new points.
               "Idempotency-Key": f"loyalty-{row.business_id}-{row.id}"}
    if secret:
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Loyalty-Signature"] = f"sha256={signature}"
    # The address was checked to be http(s) when staff saved it (S310); a 4xx or 5xx answer raises HTTPError.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS):  # noqa: S310
        row.announced_at = utcnow()


def payload(row: LoyaltyPoints) -> dict:
    """What the webhook receives about one row of points."""
    customer = db.session.get(Customer, row.customer_id)
    invoice = db.session.get(Invoice, row.invoice_id)
    return {
        "event": "loyalty.points_earned",
        "business": current_business().slug,
        "customer": {"id": customer.id, "name": customer.name, "email": customer.primary_email},
        "invoice": invoice.number,
        "payment_id": row.payment_id,
        "points": row.points,
    }
