"""Writing to the customer timeline and to the audit trail."""

from __future__ import annotations

from flask import has_request_context
from flask_login import current_user

from core.extensions import db
from core.models import ActivityEvent, AuditEntry


def record(customer_id: int, *, surface: str, kind: str, summary: str, **ref) -> ActivityEvent:
    event = ActivityEvent(customer_id=customer_id, surface=surface, kind=kind, summary=summary[:500], ref=ref)
    db.session.add(event)
    return event


def audit(action: str, target: str, *, actor: str | None = None, **details) -> AuditEntry:
    """Record who did what to which record; the staff member is taken from the request when present."""
    staff_id = None
    if actor is None:
        if has_request_context() and getattr(current_user, "realm", None) == "staff":
            staff_id, actor = current_user.id, current_user.name
        else:
            actor = "system"
    entry = AuditEntry(staff_user_id=staff_id, actor=actor, action=action, target=target, details=details)
    db.session.add(entry)
    return entry


SECRET_CHANGED = "changed (hidden)"  # noqa: S105 - the words an audit entry shows


def describe_changes(before: dict, after: dict, *, secrets: frozenset[str] | set[str] = frozenset()) -> dict:
    """What changed between two sets of settings, for an audit entry: {"phone": "555 0100 → 555 0199"}.
    A secret's value never appears: it reads "set", "removed" or "changed (hidden)"."""
    changes = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if (old or None) == (new or None):
            continue
        if name in secrets:
            changes[name] = "set" if not old else "removed" if not new else SECRET_CHANGED
        else:
            changes[name] = f"{_shown(old)} → {_shown(new)}"
    return changes


def _shown(value) -> str:
    if value in (None, ""):
        return "(none)"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"
