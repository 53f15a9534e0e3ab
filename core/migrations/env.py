"""Alembic environment for Suprata: runs inside the Flask app, so the models and loaded plugins are known.

Autogenerate writes the tables of one owner at a time: ``-x branch=<plugin name>`` for a plugin's branch,
core's tables otherwise (see ``core/migrations/__init__.py`` for how tables are assigned).
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy.types import TypeDecorator

from core.migrations import CORE, include_object_for, table_owners

config = context.config

# Configure logging only for a bare command line: inside tests or an app that set up logging already, a
# fileConfig would replace the existing handlers.
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)
branch = context.get_x_argument(as_dictionary=True).get("branch", CORE)


def render_item(type_, obj, autogen_context):
    """Write custom column types as the type they store, so revisions never import application code."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def skip_empty_autogenerate(migration_context, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def options() -> dict:
    return {
        "target_metadata": target_db.metadata,
        "include_object": include_object_for(table_owners(current_app), branch),
        "render_item": render_item,
        "process_revision_directives": skip_empty_autogenerate,
        **current_app.extensions["migrate"].configure_args,
    }


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    with target_db.engine.connect() as connection:
        context.configure(connection=connection, **options())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
