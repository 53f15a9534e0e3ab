"""Theme-aware template loading: the business's theme, then plugin templates, then the default theme.

A theme is a folder ``themes/<name>/templates`` that may override any template. ``default:<name>`` always
loads the default theme's version, so an override can ``{% extends "default:base.html" %}`` and change one
block. Jinja caches compiled templates by name, so the cache key also carries the theme in force.
"""

from __future__ import annotations

from pathlib import Path

from flask import has_app_context
from jinja2 import BaseLoader, FileSystemLoader, TemplateNotFound

from core.tenancy.state import current_business

THEMES_DIR = Path(__file__).resolve().parents[2] / "themes"
DEFAULT_THEME = "default"
DEFAULT_PREFIX = "default:"


def available_themes() -> list[str]:
    return sorted(p.name for p in THEMES_DIR.iterdir() if (p / "templates").is_dir())


def current_theme() -> str:
    if has_app_context():
        business = current_business()
        if business is not None and business.theme in _theme_loaders():
            return business.theme
    return DEFAULT_THEME


_loaders: dict[str, FileSystemLoader] = {}


def _theme_loaders() -> dict[str, FileSystemLoader]:
    if not _loaders:
        for name in available_themes():
            if name != DEFAULT_THEME:
                _loaders[name] = FileSystemLoader(THEMES_DIR / name / "templates")
    return _loaders


class ThemeLoader(BaseLoader):
    """Wraps Flask's loader (default theme + blueprint template folders) with the business theme."""

    def __init__(self, fallback: BaseLoader):
        self.fallback = fallback

    def get_source(self, environment, template):
        if template.startswith(DEFAULT_PREFIX):
            return self.fallback.get_source(environment, template[len(DEFAULT_PREFIX):])
        theme = current_theme()
        if theme != DEFAULT_THEME:
            try:
                return _theme_loaders()[theme].get_source(environment, template)
            except TemplateNotFound:
                pass
        return self.fallback.get_source(environment, template)

    def list_templates(self):
        return self.fallback.list_templates()


class ThemeKeyedCache:
    """Jinja's template cache with the current theme folded into every key."""

    def __init__(self, inner):
        self.inner = inner

    def get(self, key, default=None):
        return self.inner.get((current_theme(), key), default)

    def __getitem__(self, key):
        return self.inner[(current_theme(), key)]

    def __setitem__(self, key, value):
        self.inner[(current_theme(), key)] = value

    def clear(self):
        self.inner.clear()
