"""The plugins page: switch each plugin on or off for this business, see its health, edit its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import func, select

from core.activity import audit, describe_changes
from core.background.tasks import TaskStateError, retry
from core.console.blueprint import bp
from core.console.forms import plugin_settings_form, setting_field_name
from core.extensions import db
from core.identity.roles import can, requires_permission
from core.models import PluginError, QueuedTask
from core.plugins.settings import (
    declared_settings,
    get_state,
    readable_settings,
    save_settings,
    set_enabled,
    settings_for,
)
from core.tenancy import utcnow
from core.tenancy.state import business_cache, current_business

RECENT_ERRORS_SHOWN = 5
ERROR_WINDOW = timedelta(hours=24)


@dataclass
class PluginCard:
    """What the page shows about one loaded plugin."""

    name: str
    title: str
    doc: str
    enabled: bool
    errors_in_window: int
    errors_in_process: int
    recent_errors: list
    declared: list
    locked: list = field(default_factory=list)  # secret settings the member may not change: (label, is set)
    tasks_waiting: int = 0
    failed_tasks: list = field(default_factory=list)  # the plugin's background tasks that gave up
    form: object = None
    extra: object = None  # markup the plugin adds under its settings (render_plugin_settings)


def _host():
    return current_app.extensions["suprata"].plugins


def _editable(declared: list) -> list:
    """The settings the member may change: secrets (API keys) are for owners only."""
    return declared if can("plugin_keys") else [s for s in declared if s.kind != "secret"]


def _loaded_or_404(name: str) -> str:
    if name not in _host().plugin_names():
        abort(404)
    return name


@bp.get("/plugins")
@requires_permission("plugins")
def plugins():
    return _page()


def _page(posted_for: str | None = None, posted_form=None):
    """The whole page; after a rejected settings post, ``posted_form`` shows that plugin's input, errors."""
    host = _host()
    since = utcnow() - ERROR_WINDOW
    window_counts = dict(
        db.session.execute(
            select(PluginError.plugin_name, func.count(PluginError.id))
            .where(PluginError.created_at >= since)
            .group_by(PluginError.plugin_name)
        ).all()
    )
    task_counts = {
        (plugin_name, status): count
        for plugin_name, status, count in db.session.execute(
            select(QueuedTask.plugin_name, QueuedTask.status, func.count(QueuedTask.id))
            .where(QueuedTask.plugin_name.is_not(None))
            .group_by(QueuedTask.plugin_name, QueuedTask.status)
        ).all()
    }
    cards = []
    for name in host.plugin_names():
        declared = _editable(declared_settings(name))
        values = settings_for(name)
        if name == posted_for:
            form = posted_form
        elif declared:
            form = plugin_settings_form(name, declared, values)
        else:
            form = None
        cards.append(
            PluginCard(
                name=name,
                title=host.plugin_title(name),
                doc=host.plugin_doc(name),
                enabled=name in current_business().enabled_plugins,
                errors_in_window=window_counts.get(name, 0),
                errors_in_process=host.error_counts.get(name, 0),
                recent_errors=db.session.scalars(
                    select(PluginError)
                    .where(PluginError.plugin_name == name)
                    .order_by(PluginError.created_at.desc(), PluginError.id.desc())
                    .limit(RECENT_ERRORS_SHOWN)
                ).all(),
                declared=declared,
                locked=[(s.label, bool(values.get(s.name))) for s in declared_settings(name)
                        if s not in declared],
                tasks_waiting=task_counts.get((name, "pending"), 0) + task_counts.get((name, "running"), 0),
                failed_tasks=db.session.scalars(
                    select(QueuedTask)
                    .where(QueuedTask.plugin_name == name, QueuedTask.status == "failed")
                    .order_by(QueuedTask.id.desc())
                ).all() if task_counts.get((name, "failed")) else [],
                form=form,
                extra=(_plugin_markup(host.call_plugin(name, "render_plugin_settings", plugin_name=name))
                       if name in current_business().enabled_plugins else None),
            )
        )
    status = 400 if posted_form is not None else 200
    return render_template("console/plugins.html", cards=cards, broken=host.broken), status


def _stored_settings(name: str) -> dict:
    """The plugin's settings as this transaction stored them (the cached snapshot is from before)."""
    return readable_settings(name, get_state(name).settings or {})


def _plugin_markup(contribution) -> Markup | None:
    """What ``render_plugin_settings`` returned, as markup: the plugin rendered it (``render_template``
    gives a plain string) and is trusted with its own card, as with its own pages."""
    return Markup(contribution) if contribution else None  # noqa: S704


@bp.post("/plugins/<name>/switch")
@requires_permission("plugins")
def switch_plugin(name: str):
    name = _loaded_or_404(name)
    enabled = request.form.get("enabled") == "on"
    set_enabled(name, enabled)
    audit("plugin.enabled" if enabled else "plugin.disabled", f"plugin {name}")
    db.session.commit()
    business_cache().forget(current_business().id)
    flash(f"{name} is {'on' if enabled else 'off'}.", "success")
    return redirect(url_for("console.plugins"))


@bp.post("/plugins/<name>/settings")
@requires_permission("plugins")
def plugin_settings(name: str):
    name = _loaded_or_404(name)
    declared = _editable(declared_settings(name))
    form = plugin_settings_form(name, declared, settings_for(name), formdata=request.form)
    if not form.validate_on_submit():
        return _page(posted_for=name, posted_form=form)
    before = settings_for(name)
    errors = save_settings(name, {s.name: form[setting_field_name(s.name)].data for s in declared},
                           only={s.name for s in declared})
    if errors:
        db.session.rollback()
        for setting_name, message in errors.items():
            field = form._fields.get(setting_field_name(setting_name))
            (field.errors if field is not None else form.form_errors).append(message)
        return _page(posted_for=name, posted_form=form)
    secrets = {s.name for s in declared_settings(name) if s.kind == "secret"}
    audit("plugin.settings_changed", f"plugin {name}",
          **describe_changes(before, _stored_settings(name), secrets=secrets))
    db.session.commit()
    business_cache().forget(current_business().id)
    flash(f"Settings of {name} are saved.", "success")
    return redirect(url_for("console.plugins"))


@bp.post("/plugins/<name>/tasks/<int:task_id>/retry")
@requires_permission("plugins")
def retry_plugin_task(name: str, task_id: int):
    """Run a plugin's failed background task again, with a fresh set of attempts."""
    name = _loaded_or_404(name)
    task = db.session.get(QueuedTask, task_id)
    if task is None or task.plugin_name != name:
        abort(404)
    try:
        retry(task_id)
    except TaskStateError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.plugins", _anchor=f"plugin-{name}"))
    audit("plugin.task_retried", f"plugin {name}", task=task.task_name)
    db.session.commit()
    flash("The task will run again in a moment.", "success")
    return redirect(url_for("console.plugins", _anchor=f"plugin-{name}"))
