"""PDF files made from the theme's own templates with WeasyPrint, so a download looks like the page.

The document is laid out for print (the theme's ``@media print`` rules apply) and carries its styles and the
business's logo inside it: WeasyPrint fetches nothing over the network.
"""

from __future__ import annotations

import base64
from pathlib import Path

from flask import current_app, render_template
from markupsafe import Markup
from sqlalchemy import select
from weasyprint import HTML

from core.extensions import db
from core.models import Business
from core.tenancy.state import current_business


def render_pdf(template: str, **context) -> bytes:
    """``template`` rendered with ``context`` (plus the theme's stylesheet and the logo) as PDF bytes."""
    html = render_template(template, stylesheet=_stylesheet(), logo_data_url=_logo_data_url(), **context)
    return HTML(string=html).write_pdf()


def _stylesheet() -> Markup:
    css = (Path(current_app.static_folder) / "suprata.css").read_text(encoding="utf-8")
    return Markup(css.replace("</", "<\\/"))  # noqa: S704 - our own stylesheet file, not user input


def _logo_data_url() -> str | None:
    business = current_business()
    if not business.has_logo:
        return None
    query = select(Business.logo, Business.logo_mime).where(Business.id == business.id)
    row = db.session.execute(query).one()
    return f"data:{row.logo_mime};base64,{base64.b64encode(row.logo).decode()}"
