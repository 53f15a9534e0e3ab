"""Installation-level pages (landing) and per-business public assets (logo)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
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
    """The business's logo. Pages ask for it with its digest (``?v=``): a new logo is a new address, shown at
    once, and an address keeps its image for good, so browsers may keep it."""
    query = select(Business.logo, Business.logo_mime, Business.logo_hash).where(
        Business.id == current_business().id)
    row = db.session.execute(query).first()
    if row is None or row.logo is None:
        abort(404)
    response = Response(row.logo, mimetype=row.logo_mime)
    versioned = row.logo_hash is not None and request.args.get("v") == row.logo_hash
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if versioned else "no-cache"
    return response
