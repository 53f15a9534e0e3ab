"""Database helpers: SQLite settings for several processes, and row locks that work on both databases."""

from __future__ import annotations

from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine

from core.extensions import db


def configure_sqlite(engine: Engine) -> None:
    """WAL lets the web and worker processes read while one writes; NORMAL sync is safe under WAL and
    avoids an fsync per commit; the busy timeout makes a second writer wait instead of failing."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def lock_row(model, row_id: int):
    """``model`` row ``row_id``, locked until the transaction ends and read fresh under the lock.

    ``SELECT ... FOR UPDATE`` on PostgreSQL. SQLite has no row locks: a no-op write takes its single write
    lock, so what is read next is current and no other writer can change it before the commit.
    """
    stmt = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(model).where(model.id == row_id).values(id=model.id)
                           .execution_options(synchronize_session=False))
    else:
        stmt = stmt.with_for_update()
    return db.session.scalar(stmt)
