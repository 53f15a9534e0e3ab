"""`flask db upgrade heads` on an empty database builds exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from core.extensions import db
from core.migrations import CORE, companion_names, include_object_for, is_companion, table_owners


def upgrade(app, *args: str):
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, result.output
    return result


def tables_in_database(app) -> set[str]:
    """The tables, less the companions that a model's table declares (a full-text index)."""
    with app.app_context():
        companions = companion_names()
        names = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        return {name for name in names if not is_companion(name, companions)}


def test_upgrade_builds_the_schema_the_models_describe(fresh_app):
    upgrade(fresh_app, "upgrade", "heads")
    with fresh_app.app_context(), db.engine.connect() as conn:
        owners = table_owners(fresh_app)
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object_for(owners, None), "compare_type": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []
    assert tables_in_database(fresh_app) == set(owners)


def test_core_branch_holds_only_core_tables(fresh_app):
    with fresh_app.app_context():
        owners = table_owners(fresh_app)
    upgrade(fresh_app, "upgrade", f"{CORE}@head")
    assert tables_in_database(fresh_app) == {name for name, owner in owners.items() if owner == CORE}
    assert {"business", "invoice", "outbox_message"} <= tables_in_database(fresh_app)


def test_downgrade_to_base_removes_every_table(fresh_app):
    upgrade(fresh_app, "upgrade", "heads")
    upgrade(fresh_app, "downgrade", "base")
    assert tables_in_database(fresh_app) == set()


def test_init_db_is_repeatable(fresh_app):
    runner = fresh_app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["suprata", "init-db"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output
