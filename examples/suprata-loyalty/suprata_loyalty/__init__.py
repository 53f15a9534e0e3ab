"""Loyalty points for Suprata: an example third-party plugin that imports nothing from core but
:mod:`core.plugin_api`."""
