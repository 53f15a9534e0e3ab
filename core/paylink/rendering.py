"""The invoice body on the pay-link pages, rendered once per revision of what it shows, in each process.

The body (parties, lines, totals, memo) is most of the page's rendering and all of its lines, and a link is
opened again and again while the invoice stays the same. It is kept, per process, under a key made of
everything it shows: the invoice's id, creation time and revision (which every change of the invoice or its
lines raises; the creation time tells apart an invoice that reuses a deleted one's id), the customer's name
and address, and the business's name, address, theme, locale and time zone. So a page never shows an
outdated body, and a cached one costs neither the lines query nor the render.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import render_template
from markupsafe import Markup

from core.models import Invoice
from core.tenancy.state import current_business

BODY_TEMPLATE = "paylink/_invoice.html"
KEPT = 2048  # bodies per process; a few kilobytes each


class _Recent:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_bodies = _Recent(KEPT)


def invoice_body(invoice: Invoice) -> Markup:
    """The rendered ``paylink/_invoice.html`` for ``invoice`` of the current business."""
    business = current_business()
    customer = invoice.customer
    key = (business.id, business.theme, business.name, business.address, business.locale, business.timezone,
           invoice.id, invoice.created_at, invoice.revision,
           customer.name, customer.company, customer.address)
    body = _bodies.get(key)
    if body is None:
        # The template's own output, escaped by Jinja as it rendered.
        body = Markup(render_template(BODY_TEMPLATE, invoice=invoice))  # noqa: S704
        _bodies.put(key, body)
    return body
