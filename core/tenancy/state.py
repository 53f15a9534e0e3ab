"""What each request needs to know about its business, cached briefly in every process.

A web or worker process re-reads a business's settings and plugin switches at most every
``SUPRATA_STATE_TTL`` seconds, so a change made in the console (in any process, on any host) takes effect
everywhere within seconds, without a restart, and a page does not pay two queries for it every time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app, g, has_app_context
from sqlalchemy import select

from core.extensions import db
from core.models import Business, BusinessHost, PluginState
from core.models.business import DEFAULT_POLICIES
from core.tenancy import business_context, current_business_id
from core.tenancy.hosts import hosts_of


@dataclass(frozen=True)
class BusinessInfo:
    """A read-only snapshot of a business for rendering and dispatch; not an ORM object."""

    id: int
    slug: str
    name: str
    hosts: tuple[str, ...]  # the host names it is served on, the primary (used in links) first
    theme: str
    brand_color: str
    accent_color: str
    has_logo: bool
    logo_hash: str | None
    email: str | None
    phone: str | None
    address: str | None
    billing_email: str | None
    mail_from: str | None
    reply_to: str | None
    timezone: str
    currency: str
    locale: str
    policies: dict
    enabled_plugins: frozenset[str] = field(default_factory=frozenset)
    plugin_settings: dict = field(default_factory=dict)

    def policy(self, name: str):
        return self.policies.get(name, DEFAULT_POLICIES[name])

    @property
    def primary_host(self) -> str | None:
        return self.hosts[0] if self.hosts else None


def _snapshot(business: Business) -> BusinessInfo:
    with business_context(business.id):
        states = db.session.scalars(select(PluginState)).all()
    hosts = hosts_of(business.id)
    return BusinessInfo(
        id=business.id,
        slug=business.slug,
        name=business.name,
        hosts=tuple(hosts),
        theme=business.theme or "default",
        brand_color=business.brand_color,
        accent_color=business.accent_color,
        has_logo=business.logo_mime is not None,
        logo_hash=business.logo_hash,
        email=business.email,
        phone=business.phone,
        address=business.address,
        billing_email=business.billing_email,
        mail_from=business.mail_from,
        reply_to=business.reply_to,
        timezone=business.timezone,
        currency=business.currency,
        locale=business.locale or "en_US",
        policies=dict(business.policies or {}),
        enabled_plugins=frozenset(s.plugin_name for s in states if s.enabled),
        plugin_settings={s.plugin_name: dict(s.settings or {}) for s in states},
    )


class BusinessCache:
    """Per-process cache of :class:`BusinessInfo`, by id, slug and host, with a short time to live."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, object], tuple[float, BusinessInfo | None]] = {}

    def _get(self, key: tuple[str, object], where) -> BusinessInfo | None:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        business = db.session.scalar(select(Business).where(where))
        info = _snapshot(business) if business else None
        with self._lock:
            self._entries[key] = (now, info)
        return info

    def by_id(self, business_id: int) -> BusinessInfo | None:
        return self._get(("id", business_id), Business.id == business_id)

    def by_slug(self, slug: str) -> BusinessInfo | None:
        return self._get(("slug", slug), Business.slug == slug)

    def by_host(self, host: str) -> BusinessInfo | None:
        host = host.lower()
        return self._get(("host", host), Business.id.in_(
            select(BusinessHost.business_id).where(BusinessHost.name == host).scalar_subquery()))

    def forget(self, business_id: int | None = None) -> None:
        """Drop cached entries (this process only; others expire within the TTL): the business's, and every
        "no such business" answer, since a name or host it has just taken may be among them."""
        if has_app_context():
            g.pop(_MEMO, None)
        with self._lock:
            if business_id is None:
                self._entries.clear()
            else:
                self._entries = {
                    k: v for k, v in self._entries.items() if v[1] is not None and v[1].id != business_id
                }


def business_cache() -> BusinessCache:
    return current_app.extensions["suprata"].businesses


# The snapshot in force, kept on ``g`` so a request or job reads its business once, whatever the TTL.
_MEMO = "suprata_business"


def current_business() -> BusinessInfo | None:
    """The business of the current request or job, as a read-only snapshot; None outside one.

    The one way to ask: it follows :func:`core.tenancy.current_business_id`, which a request sets from its
    host name (or path prefix) and a job from the business it runs for.
    """
    business_id = current_business_id()
    if business_id is None:
        return None
    memo = g.get(_MEMO) if has_app_context() else None
    if memo is not None and memo.id == business_id:
        return memo
    info = business_cache().by_id(business_id)
    if has_app_context():
        setattr(g, _MEMO, info)
    return info


def remember_business(info: BusinessInfo | None) -> None:
    """The request resolved its business already: keep that snapshot for :func:`current_business`."""
    g.pop(_MEMO, None)
    if info is not None:
        setattr(g, _MEMO, info)
