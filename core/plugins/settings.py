"""Per-business plugin settings: declared by plugins, stored in ``PluginState.settings``, secrets encrypted.

Secret settings (API keys) are encrypted at rest (:mod:`core.crypto`), so a database dump alone does not
reveal a business's Stripe or Twilio keys.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from core.crypto import seal, unseal
from core.extensions import db
from core.models import PluginState
from core.tenancy.state import current_business

# Secrets already stored were sealed under this label: changing it would make them unreadable.
SECRET_PURPOSE = "plugin settings"  # noqa: S105 - a key derivation label, not a secret


def declared_settings(plugin_name: str) -> list:
    """What the plugin declares through its own ``plugin_settings`` hook (none if it has none)."""
    return list(current_app.extensions["suprata"].plugins.call_plugin(plugin_name, "plugin_settings") or [])


def settings_for(plugin_name: str) -> dict:
    """The current business's settings for a plugin: defaults, then stored values, secrets decrypted."""
    info = current_business()
    return readable_settings(plugin_name, info.plugin_settings.get(plugin_name, {}) if info else {})


def readable_settings(plugin_name: str, stored: dict) -> dict:
    """Settings as stored (a ``PluginState.settings`` value), with the defaults of those not stored, secrets
    decrypted."""
    values = {}
    for setting in declared_settings(plugin_name):
        raw = stored.get(setting.name, setting.default)
        values[setting.name] = unseal(raw, SECRET_PURPOSE) if setting.kind == "secret" else raw
    return values


def settings_of(module_name: str) -> dict:
    """The current business's settings of the plugin whose package holds ``module_name`` (pass
    ``__name__``), so a plugin never spells its own name: that comes from its entry point."""
    plugin_name = current_app.extensions["suprata"].plugins.plugin_owning(module_name)
    if plugin_name is None:
        raise LookupError(f"{module_name} belongs to no loaded plugin")
    return settings_for(plugin_name)


def get_state(plugin_name: str) -> PluginState:
    """The business's row for a plugin, created (switched off) on first use."""
    state = db.session.scalar(select(PluginState).where(PluginState.plugin_name == plugin_name))
    if state is None:
        state = PluginState(plugin_name=plugin_name, enabled=False, settings={})
        db.session.add(state)
    return state


def set_enabled(plugin_name: str, enabled: bool) -> None:
    get_state(plugin_name).enabled = enabled


def save_settings(plugin_name: str, form_values: dict, *, only: set[str] | None = None) -> dict[str, str]:
    """Validate and store submitted settings; returns field errors (empty when saved).

    A blank secret keeps the stored one, so keys are never echoed back into a form. ``only`` limits the
    change to those settings (what the member may edit); the others keep their stored values.
    """
    errors: dict[str, str] = {}
    state = get_state(plugin_name)
    new = dict(state.settings or {})
    for setting in declared_settings(plugin_name):
        if only is not None and setting.name not in only:
            continue
        raw = form_values.get(setting.name)
        if setting.kind == "bool":
            value = raw in (True, "y", "on", "true", "1")
        elif setting.kind == "secret":
            if not raw:
                if setting.required and not new.get(setting.name):
                    errors[setting.name] = "This is required."
                continue
            value = raw.strip()
        elif setting.kind == "int":
            try:
                value = int(raw) if raw not in (None, "") else setting.default
            except ValueError:
                errors[setting.name] = "Enter a whole number."
                continue
        else:
            value = (raw or "").strip()
            if setting.kind == "choice" and value not in {c for c, _ in setting.choices}:
                errors[setting.name] = "Choose one of the options."
                continue
        if setting.required and value in (None, ""):
            errors[setting.name] = "This is required."
            continue
        if setting.validate is not None and value not in (None, ""):
            try:
                setting.validate(value)
            except ValueError as exc:
                errors[setting.name] = str(exc)
                continue
        new[setting.name] = seal(value, SECRET_PURPOSE) if setting.kind == "secret" else value
    if not errors:
        errors = _problems_together(plugin_name, new)
    if not errors:
        state.settings = new
    return errors


def _problems_together(plugin_name: str, stored: dict) -> dict[str, str]:
    """What the plugin finds wrong with its settings as a whole (``plugin_settings_problems``)."""
    problems = current_app.extensions["suprata"].plugins.call_plugin(
        plugin_name, "plugin_settings_problems", settings=readable_settings(plugin_name, stored))
    return dict(problems or {})
