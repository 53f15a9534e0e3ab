"""Installation-level pages (landing) and per-business public assets (logo)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from sqlalchemy import select

from core.extensions import db
from core.models import Business
from core.tenancy.state import current_business

bp = Blueprint("site", __name__)
bp.realm = None


@bp.get("/")
def installation_home():
    """Without a business: the list of businesses (development); with one: its customer-facing home."""
    if current_business() is None:
        businesses = db.session.scalars(select(Business).order_by(Business.name)).all()
        return render_template("installation.html", businesses=businesses)
    return render_template("business_home.html")


@bp.get("/logo")
def logo():
    query = select(Business.logo, Business.logo_mime).where(Business.id == current_business().id)
    row = db.session.execute(query).first()
    if row is None or row.logo is None:
        abort(404)
    response = Response(row.logo, mimetype=row.logo_mime)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
