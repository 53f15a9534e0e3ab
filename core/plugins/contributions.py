"""What hooks return to core: entries for the portal's tabs and the console's menu, and declared settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PortalTab:
    """One entry in the portal's tab bar (see ``render_portal_tab``)."""

    id: str
    title: str
    url: str
    order: int = 100


@dataclass(frozen=True)
class MenuItem:
    """One link in a menu: the console's side menu (``render_console_menu``) or a customer page's header
    (``render_site_links``)."""

    title: str
    url: str
    order: int = 100


@dataclass(frozen=True)
class Setting:
    """A plugin setting: shown on the plugins page, stored per business, validated on save.

    ``kind`` is ``"text"``, ``"secret"`` (stored encrypted, never shown back), ``"bool"``, ``"int"`` or
    ``"choice"`` (with ``choices``). ``validate`` may raise ``ValueError`` with a message for the user.
    """

    name: str
    label: str
    kind: str = "text"
    default: Any = None
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = False
    validate: Any = None
