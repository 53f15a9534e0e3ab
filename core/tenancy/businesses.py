"""Adding and removing a business: the row every other record of that business hangs from."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, inspect

from core.extensions import db
from core.models import Business
from core.plugins.settings import set_enabled
from core.tenancy import business_context
from core.tenancy.hosts import HostError, set_hosts
from core.tenancy.locales import locale_for_timezone
from core.tenancy.state import business_cache


def create_business(slug: str, *, plugins: Iterable[str] = (), hosts: Iterable[str] = (),
                    **fields) -> Business:
    """A new business with ``plugins`` switched on, served on ``hosts`` (the first primary); commits.
    Without a ``locale``, money and dates are shown the way the country of its time zone writes them.
    HostError (nothing created) when a host name is invalid or taken."""
    fields.setdefault("locale", locale_for_timezone(fields.get("timezone")))
    business = Business(slug=slug, **fields)
    db.session.add(business)
    db.session.flush()
    try:
        set_hosts(business.id, hosts)
    except HostError:
        db.session.rollback()
        raise
    with business_context(business.id):
        for name in plugins:
            set_enabled(name, True)
        db.session.commit()  # inside the context: the plugin rows are stamped with the business as they flush
    business_cache().forget(business.id)
    return business


def delete_business(business_id: int) -> None:
    """Delete a business and every row that belongs to it, children before parents; commits."""
    existing = set(inspect(db.engine).get_table_names())
    for table in reversed(db.metadata.sorted_tables):
        if table.name in existing and "business_id" in table.c:
            db.session.execute(delete(table).where(table.c.business_id == business_id))
    db.session.execute(delete(Business).where(Business.id == business_id))
    db.session.commit()
    business_cache().forget(business_id)
