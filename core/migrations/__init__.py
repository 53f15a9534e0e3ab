"""Database migrations: core's revisions live in this folder, each plugin's in an Alembic branch of its own.

Where a plugin's revisions are: ``<plugin package>/migrations/versions/``. The folder of every loaded plugin
(bundled or installed from another distribution) is added to Alembic's ``version_locations``, so
``flask db upgrade heads`` builds core and every installed plugin's tables.

Which tables belong to whom: a table belongs to the plugin whose package defines its model class; tables of
models defined in ``core`` belong to core. Autogenerate writes one owner's tables at a time
(``flask db migrate -x branch=<plugin name>``; core when no branch is given), so a plugin's tables never land
in core's revision and a core revision never drops the tables of a plugin that is not installed.

A new revision file is tidied by ruff (the ``suprata_ruff`` post-write hook in ``alembic.ini``): formatted,
then fixed, with the ruff settings of the project it is written into, so it passes that project's lint rules.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from alembic.script import write_hooks
from flask import Flask, current_app

from core.extensions import db

CORE = "core"
MIGRATIONS_DIR = Path(__file__).resolve().parent
CORE_VERSIONS_DIR = MIGRATIONS_DIR / "versions"
log = logging.getLogger("suprata.migrations")


def plugin_packages(app: Flask) -> dict[str, str]:
    """Loaded plugin name -> the package its hook implementations come from."""
    packages = {}
    for name, plugin in app.extensions["suprata"].plugins.pm.list_name_plugin():
        module = plugin if isinstance(plugin, ModuleType) else inspect.getmodule(type(plugin))
        package = getattr(module, "__package__", None)
        if name and package:
            packages[name] = package
    return packages


def plugin_versions_dir(package: str) -> Path | None:
    """The plugin package's ``migrations/versions`` folder, if it has one."""
    module = sys.modules.get(package)
    for root in getattr(module, "__path__", ()):
        candidate = Path(root) / "migrations" / "versions"
        if candidate.is_dir():
            return candidate
    return None


def plugin_version_locations(app: Flask) -> dict[str, Path]:
    """Plugin name -> its migrations folder, for the loaded plugins that have one."""
    locations = {}
    for name, package in plugin_packages(app).items():
        folder = plugin_versions_dir(package)
        if folder is not None:
            locations[name] = folder
    return locations


def add_plugin_branches(config):
    """Flask-Migrate configure callback: core's versions folder plus every loaded plugin's."""
    folders = [CORE_VERSIONS_DIR, *plugin_version_locations(current_app).values()]
    # set_main_option interpolates "%", so a path containing one must be escaped.
    config.set_main_option("version_locations", os.pathsep.join(str(f).replace("%", "%%") for f in folders))
    return config


def owner_of_module(module_name: str, packages: dict[str, str]) -> str | None:
    if module_name == CORE or module_name.startswith(CORE + "."):
        return CORE
    for plugin_name, package in packages.items():
        if module_name == package or module_name.startswith(package + "."):
            return plugin_name
    return None


def table_owners(app: Flask) -> dict[str, str]:
    """Table name -> ``"core"`` or the plugin whose package defines its model.

    Tables whose models neither core nor a loaded plugin defines (a test's own models) have no owner and are
    left out of migrations.
    """
    packages = plugin_packages(app)
    owners = {}
    for mapper in db.Model.registry.mappers:
        if mapper.inherits is not None:
            continue  # a subclass maps its base's table; the base decides the owner
        owner = owner_of_module(mapper.class_.__module__, packages)
        if owner is not None:
            owners[mapper.local_table.name] = owner
    return owners


def companion_names() -> tuple[str, ...]:
    """Names of what owners build with DDL of their own beside a model's table, as the table's
    ``info["companions"]`` declares them: a full-text index (SQLite's FTS5 table, PostgreSQL's expression
    index). No model describes them, so autogenerate must neither compare nor drop them; SQLite's shadow
    tables of a companion (``<name>_data``, ...) count as the companion."""
    return tuple(name for table in db.metadata.tables.values() for name in table.info.get("companions", ()))


def is_companion(name: str | None, companions: tuple[str, ...]) -> bool:
    return bool(name) and any(name == c or name.startswith(c + "_") for c in companions)


def include_object_for(owners: dict[str, str], branch: str | None):
    """An Alembic ``include_object`` that keeps the tables of ``branch`` (``None``: of every known owner),
    and leaves companions (:func:`companion_names`) alone."""
    companions = companion_names()

    def include_object(obj, name, type_, reflected, compare_to):
        if reflected and compare_to is None and is_companion(name, companions):
            return False
        if type_ != "table":
            return True  # columns, indexes and constraints follow their table
        owner = owners.get(name)
        return owner is not None if branch is None else owner == branch

    return include_object


def _ruff_command() -> list[str] | None:
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    executable = shutil.which("ruff")
    return [executable] if executable else None


@write_hooks.register("suprata_ruff")
def tidy_revision(path: str, options) -> None:
    """Alembic post-write hook: wrap autogenerate's long lines (``ruff format``), then apply ruff's fixes.

    Ruff reads its settings from the project the file is written into. Without ruff the file is left as
    Alembic wrote it, and a note says so.
    """
    ruff = _ruff_command()
    if ruff is None:
        log.info("ruff is not installed: %s is left as written", path)
        return
    subprocess.run([*ruff, "format", "--quiet", path], check=True)  # noqa: S603 - our own arguments
    subprocess.run([*ruff, "check", "--fix", "--quiet", "--exit-zero", path], check=True)  # noqa: S603
