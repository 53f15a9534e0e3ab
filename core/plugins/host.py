"""The plugin host: discovers plugins through entry points and dispatches hooks per business.

Loading order follows pluggy's own practice: hook specs, the installation's blocked set, entry points, then
a check that every implementation names a real hook. A plugin that fails any step is listed as broken and
the app starts without it. At run time :meth:`PluginHost.call` skips plugins the current business turned
off and isolates implementations that raise.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from importlib.metadata import entry_points

import pluggy
from flask import Flask, current_app
from sqlalchemy import insert

from core.extensions import db
from core.models import PluginError
from core.observability.metrics import count_plugin_error
from core.plugins import API_VERSION, hookspecs
from core.tenancy import current_business_id

ENTRY_POINT_GROUP = "suprata.plugins"
log = logging.getLogger("suprata.plugins")
_FAILED = object()  # what a start-up hook call returns when the plugin raised


class PluginHost:
    def __init__(self, blocked: list[str] | tuple[str, ...] = ()):
        self.pm = pluggy.PluginManager("suprata")
        self.pm.add_hookspecs(hookspecs)
        for name in blocked:
            self.pm.set_blocked(name)
        self.broken: dict[str, str] = {}  # plugin name -> why it could not load
        self.blueprint_owner: dict[str, str] = {}  # blueprint name -> plugin name
        self.error_counts: Counter[str] = Counter()  # raised hook calls in this process, by plugin
        self._business_lookup = None  # set by the app: business id -> BusinessInfo

    # -- loading ------------------------------------------------------------------------------------------

    def load_entry_points(self) -> None:
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if self.pm.is_blocked(ep.name) or self.pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a plugin that cannot import must not stop the app
                self._mark_broken(ep.name, f"import failed: {exc!r}")
                continue
            self.register(plugin, ep.name)

    def register(self, plugin, name: str) -> bool:
        """Register one plugin object (a module or instance); returns False if it is broken."""
        built_for = str(getattr(plugin, "API_VERSION", API_VERSION))
        if built_for.split(".")[0] != API_VERSION.split(".")[0]:
            self._mark_broken(name, f"built for plugin API {built_for}; this installation has {API_VERSION}")
            return False
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            self._mark_broken(name, f"registration failed: {exc!r}")
            return False
        wrappers = sorted(
            impl_name
            for impl_name in dir(self.pm.hook)
            if not impl_name.startswith("_")
            and any(i.plugin_name == name and (i.wrapper or i.hookwrapper)
                    for i in getattr(self.pm.hook, impl_name).get_hookimpls())
        )
        if wrappers:
            # Calls go through this host, one implementation at a time, so a wrapper would never wrap.
            self.pm.unregister(name=name)
            self._mark_broken(name, "hook wrappers are not supported: " + ", ".join(wrappers))
            return False
        unknown = [
            impl_name
            for impl_name in dir(self.pm.hook)
            if not impl_name.startswith("_")
            and not getattr(self.pm.hook, impl_name).has_spec()
            and any(i.plugin_name == name for i in getattr(self.pm.hook, impl_name).get_hookimpls())
        ]
        if unknown:
            self.pm.unregister(name=name)
            self._mark_broken(name, "implements unknown hooks: " + ", ".join(sorted(unknown)))
            return False
        return True

    def _mark_broken(self, name: str, why: str) -> None:
        log.error("plugin %s is broken: %s", name, why)
        self.broken[name] = why

    def plugin_names(self) -> list[str]:
        """Every loaded plugin, in a stable order."""
        # A blocked name is listed with ``None`` in place of its plugin.
        return sorted(name for name, plugin in self.pm.list_name_plugin() if plugin is not None)

    def plugin_doc(self, name: str) -> str:
        plugin = self.pm.get_plugin(name)
        return ((getattr(plugin, "__doc__", None) or "").strip().splitlines() or [""])[0]

    def plugin_title(self, name: str) -> str:
        """What staff call the plugin: its module's ``TITLE``, else its name."""
        return getattr(self.pm.get_plugin(name), "TITLE", None) or name

    # -- start-up hooks: every loaded plugin, whatever the businesses say ---------------------------------

    def register_blueprints(self, app: Flask) -> None:
        for impl in self.pm.hook.register_blueprints.get_hookimpls():
            before = set(app.blueprints)
            self._call_at_start_up(impl, "register_blueprints", {"app": app})
            # Kept even for a plugin that failed half-way, so the routes it did add answer 404.
            for bp_name in set(app.blueprints) - before:
                self.blueprint_owner[bp_name] = impl.plugin_name

    def call_all_plugins(self, hook_name: str, *, per_plugin=None, **kwargs) -> list:
        """Call a start-up hook on every loaded plugin (not filtered by business).

        ``per_plugin(plugin_name)``, when given, returns extra arguments made for each plugin (each plugin's
        own ``Schedule``, say). Returns ``(plugin name, result)`` pairs. A plugin whose implementation
        raises is unloaded and listed as broken; the app starts without it.
        """
        hook = getattr(self.pm.hook, hook_name)
        results = []
        for impl in reversed(hook.get_hookimpls()):
            arguments = {**kwargs, **(per_plugin(impl.plugin_name) if per_plugin else {})}
            result = self._call_at_start_up(impl, hook_name, arguments)
            if result is not _FAILED:
                results.append((impl.plugin_name, result))
        return results

    def call_plugin(self, name: str, hook_name: str, /, **kwargs):
        """Call one plugin's own implementation of a hook, whatever the business's switch says (its
        settings form, its migrations); isolated like any run-time call. None if it has none."""
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            if impl.plugin_name == name:
                return self._invoke(impl, hook_name, kwargs, isolate=True)
        return None

    def plugin_owning(self, module_name: str) -> str | None:
        """The name of the loaded plugin whose package holds ``module_name`` (a module's ``__name__``)."""
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:  # blocked
                continue
            package = getattr(plugin, "__name__", None) or type(plugin).__module__
            root = package.rpartition(".")[0] or package
            if module_name == package or module_name.startswith(root + "."):
                return name
        return None

    def _call_at_start_up(self, impl, hook_name: str, kwargs: dict):
        try:
            return self._invoke(impl, hook_name, kwargs, isolate=False)
        except Exception as exc:  # a plugin that cannot start must not stop the app
            self.pm.unregister(name=impl.plugin_name)
            self._mark_broken(impl.plugin_name, f"{hook_name} failed: {exc!r}")
            return _FAILED

    # -- run-time dispatch --------------------------------------------------------------------------------

    def enabled_for_current_business(self) -> frozenset[str]:
        business_id = current_business_id()
        if business_id is None or self._business_lookup is None:
            return frozenset()
        info = self._business_lookup(business_id)
        return info.enabled_plugins if info else frozenset()

    def is_enabled(self, plugin_name: str) -> bool:
        """True when the plugin is loaded (not blocked or broken) and the current business has it on."""
        return self.pm.has_plugin(plugin_name) and plugin_name in self.enabled_for_current_business()

    def call(self, hook_name: str, **kwargs) -> list:
        """Call a hook on the plugins the current business has on, isolating failures.

        Returns the non-``None`` results in pluggy's call order (``tryfirst`` implementations first, then the
        plugin registered last first); list results are flattened so a plugin may contribute several items.
        """
        hook = getattr(self.pm.hook, hook_name)
        enabled = self.enabled_for_current_business()
        first_only = hook.spec is not None and hook.spec.opts.get("firstresult", False)
        results = []
        for impl in reversed(hook.get_hookimpls()):
            if impl.plugin_name not in enabled:
                continue
            result = self._invoke(impl, hook_name, kwargs, isolate=True)
            if result is None:
                continue
            if first_only:
                return [result]
            results.extend(result if isinstance(result, list | tuple) else [result])
        return results

    def call_first(self, hook_name: str, **kwargs):
        results = self.call(hook_name, **kwargs)
        return results[0] if results else None

    def _invoke(self, impl, hook_name: str, kwargs: dict, *, isolate: bool):
        args = [kwargs[name] for name in impl.argnames]
        if not isolate:
            return impl.function(*args)
        try:
            return impl.function(*args)
        except Exception as exc:
            self._record_failure(impl.plugin_name, hook_name, exc)
            return None

    def record_failure(self, plugin_name: str, where: str, exc: Exception) -> None:
        """Log, count and record for staff a plugin's failure outside a hook call (e.g. a periodic job).

        Call it from the ``except`` block, in the business the failure belongs to.
        """
        self._record_failure(plugin_name, where, exc)

    def _record_failure(self, plugin_name: str, hook_name: str, exc: Exception) -> None:
        log.exception("plugin %s raised in hook %s", plugin_name, hook_name)
        self.error_counts[plugin_name] += 1
        count_plugin_error(plugin_name)
        business_id = current_business_id()
        if business_id is None:
            return
        # A connection of its own: the caller's transaction may be rolled back, the record must stay.
        try:
            with db.engine.begin() as conn:
                conn.execute(
                    insert(PluginError).values(
                        business_id=business_id,
                        plugin_name=plugin_name,
                        hook=hook_name,
                        error=f"{type(exc).__name__}: {exc}"[:2000],
                        traceback=traceback.format_exc()[-8000:],
                    )
                )
        except Exception:
            log.exception("could not record the failure of plugin %s", plugin_name)


def call_hook(hook_name: str, **kwargs) -> list:
    """Call a hook on the current business's enabled plugins (isolated); how plugins talk to each other."""
    return current_app.extensions["suprata"].plugins.call(hook_name, **kwargs)
