"""The host names a business is served on: what a valid one is, and setting a business's list.

A request is matched to its business by its host name (``BusinessCache.by_host``), and links sent out are
built on the business's first, primary, host (:mod:`core.tenancy.urls`). A name belongs to one business
only (a unique constraint, so two owners claiming it at once cannot both win), and never the installation's
own address, which lists the businesses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.models import BusinessHost

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
MAX_HOSTS = 20


class HostError(ValueError):
    """A host name, or a list of them, that cannot be used; the message says why, for the user."""


def normalise_host(text: str) -> str:
    """``text`` as a host name in lower case and ASCII ("Pay.Café.example" -> "pay.xn--caf-dma.example");
    HostError when it is not one."""
    raw = text.strip()
    name = raw.lower().rstrip(".")
    if any(mark in name for mark in ("/", ":", "@", " ")):
        raise HostError(f"“{raw}”: enter only the host name, like pay.example.com, without http://, a "
                        "path or a port.")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise HostError(f"“{raw}” is not a valid host name.") from None
    labels = name.split(".")
    # A last part of digits only is an IP address, not a name (top-level domains are never numeric).
    if len(name) > 253 or len(labels) < 2 or labels[-1].isdigit() or not all(map(_LABEL.fullmatch, labels)):
        raise HostError(f"“{raw}” is not a host name: use letters, digits and dashes, in two or more parts "
                        "separated by dots, like pay.example.com.")
    return name


def parse_hosts(texts: Iterable[str]) -> list[str]:
    """Host names from user input (blank entries ignored, repeats dropped, order kept); HostError listing
    every problem."""
    names, problems = [], []
    for text in texts:
        if not text.strip():
            continue
        try:
            name = normalise_host(text)
        except HostError as exc:
            problems.append(str(exc))
            continue
        if name not in names:
            names.append(name)
    installation = urlsplit(current_app.config.get("SUPRATA_PUBLIC_URL") or "").hostname
    if installation in names:
        problems.append(f"{installation} is the installation's own address; give the business a name of "
                        "its own.")
    if len(names) > MAX_HOSTS:
        problems.append(f"A business has at most {MAX_HOSTS} host names.")
    if problems:
        raise HostError(" ".join(problems))
    return names


def set_hosts(business_id: int, texts: Iterable[str]) -> list[str]:
    """Make ``texts`` the business's host names, the first primary; in the caller's transaction (flushed).
    HostError, with nothing changed, when one is invalid or belongs to another business."""
    names = parse_hosts(texts)
    taken = db.session.scalars(
        select(BusinessHost.name).where(BusinessHost.name.in_(names), BusinessHost.business_id != business_id)
    ).all()
    if taken:
        raise HostError(_taken(taken))
    try:
        with db.session.begin_nested():
            db.session.execute(delete(BusinessHost).where(BusinessHost.business_id == business_id))
            db.session.add_all(BusinessHost(business_id=business_id, name=name, position=position)
                               for position, name in enumerate(names))
    except IntegrityError:  # another business took one of them in the meantime
        raise HostError(_taken(names)) from None
    return names


def _taken(names: Iterable[str]) -> str:
    return ("Another business already uses " + ", ".join(sorted(names)) + "; a host name belongs to one "
            "business only.")


def hosts_of(business_id: int) -> list[str]:
    """The business's host names, the primary first."""
    return list(db.session.scalars(
        select(BusinessHost.name)
        .where(BusinessHost.business_id == business_id)
        .order_by(BusinessHost.position)
    ))
