"""Suprata core: the app factory, data model, plugin host and the surfaces every business gets."""

from core.app import create_app

__all__ = ["create_app"]
