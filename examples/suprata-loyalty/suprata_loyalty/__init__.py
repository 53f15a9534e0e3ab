"""Loyalty points for Suprata: an example third-party plugin that imports nothing from core but
:mod:`core.plugin_api`."""

#: The plugin's name: its entry-point name in ``pyproject.toml``, which businesses switch on and off.
PLUGIN_NAME = "loyalty"
