"""The help site: the knowledge base, the ticket form, and a signed-in customer's tickets.

Open to visitors; who is signed in comes only from :mod:`plugins.helpdesk.identity`. The public form gives
the same page whatever address it is sent with (and to a bot that filled the hidden field, which keeps
nothing), and its confirmation links get one "does not work" page whether used, expired, mutated or unknown.
A customer's ticket pages answer 404 for any ticket that is not theirs, exactly as for one that does not
exist, and never show internal notes.
"""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, session, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from core.plugin_api import current_business_id, db, limiter, login_exempt, private
from plugins.helpdesk import articles, attachments, tickets
from plugins.helpdesk.blueprints import helpdesk
from plugins.helpdesk.forms import ButtonForm, PublicTicketForm, ReplyForm, SignedInTicketForm
from plugins.helpdesk.identity import customer_required, sign_in_url, sign_out_url, signed_in_customer
from plugins.helpdesk.models import HelpArticle, HelpCategory
from plugins.helpdesk.search import search_articles

TICKET_LIMIT_PER_IP = "5 per minute"
TICKET_LIMIT_PER_EMAIL = "5 per hour"
REPLY_LIMIT = "30 per hour"
RECENT_ARTICLES = 8
PER_PAGE = 30


@helpdesk.context_processor
def _who_is_signed_in() -> dict:
    """The help site's header: the signed-in customer's name and sign-out, or a way to sign in."""
    return {"help_customer": signed_in_customer(), "help_sign_in_url": sign_in_url(),
            "help_sign_out_url": sign_out_url()}


def _email_key() -> str:
    """One counter per business and submitted address: many addresses cannot flood one inbox."""
    email = (request.form.get("email") or "").strip().lower()
    return f"helpdesk-ticket:{current_business_id()}:{email}"


def _published(slug: str) -> HelpArticle:
    article = db.session.scalar(select(HelpArticle).options(joinedload(HelpArticle.category))
                                .where(HelpArticle.slug == slug, HelpArticle.status == "published"))
    if article is None:
        abort(404)
    return article


# -- knowledge base ---------------------------------------------------------------------------------------


@helpdesk.get("/")
@login_exempt
def home():
    """Search, the categories with how many articles each has, and the latest articles: three queries."""
    counts = dict(db.session.execute(
        select(HelpArticle.category_id, func.count()).where(HelpArticle.status == "published")
        .group_by(HelpArticle.category_id)).all())
    categories = db.session.scalars(select(HelpCategory).order_by(HelpCategory.position, HelpCategory.name))
    recent = db.session.scalars(select(HelpArticle).where(HelpArticle.status == "published")
                                .order_by(HelpArticle.published_at.desc(), HelpArticle.id.desc())
                                .limit(RECENT_ARTICLES))
    return render_template("helpdesk/home.html", categories=[c for c in categories if counts.get(c.id)],
                           counts=counts, recent=list(recent))


@helpdesk.get("/search")
@login_exempt
def search():
    query = (request.args.get("q") or "").strip()[:200]
    return render_template("helpdesk/search.html", query=query,
                           results=search_articles(query) if query else [])


@helpdesk.get("/categories/<slug>")
@login_exempt
def category(slug: str):
    record = db.session.scalar(select(HelpCategory).where(HelpCategory.slug == slug))
    if record is None:
        abort(404)
    number = max(request.args.get("page", 1, type=int), 1)
    rows = list(db.session.scalars(
        select(HelpArticle).where(HelpArticle.category_id == record.id, HelpArticle.status == "published")
        .order_by(HelpArticle.title, HelpArticle.id).limit(PER_PAGE + 1).offset((number - 1) * PER_PAGE)))
    return render_template("helpdesk/category.html", category=record, articles=rows[:PER_PAGE], page=number,
                           has_next=len(rows) > PER_PAGE)


@helpdesk.get("/articles/<slug>")
@login_exempt
def article(slug: str):
    """A published article; a signed-in customer's reading goes on their timeline."""
    record = _published(slug)
    customer = signed_in_customer()
    page = render_template("helpdesk/article.html", article=record, vote_form=ButtonForm(),
                           voted=session.get("help_voted", {}).get(str(record.id)))
    if customer is not None:
        articles.record_read(record, customer.id)
        db.session.commit()
    return page


@helpdesk.post("/articles/<slug>/vote")
@limiter.limit("30 per minute")
@login_exempt
def vote(slug: str):
    """"Was this helpful?": counted once per visitor (or per customer, when signed in)."""
    record = _published(slug)
    if ButtonForm().validate_on_submit() and request.form.get("helpful") in ("yes", "no"):
        session.setdefault("help_visitor", secrets.token_hex(16))
        customer = signed_in_customer()
        voter = articles.voter_key(customer.id if customer else None, session["help_visitor"])
        articles.vote(record, helpful=request.form["helpful"] == "yes", voter=voter)
        session["help_voted"] = {**session.get("help_voted", {}), str(record.id): request.form["helpful"]}
        flash("Thank you: your answer helps us improve this article.", "success")
    return redirect(url_for("helpdesk.article", slug=slug, _anchor="helpful"))


# -- sending a ticket -------------------------------------------------------------------------------------


@helpdesk.route("/tickets/new", methods=["GET", "POST"])
@limiter.limit(TICKET_LIMIT_PER_IP, methods=["POST"])
@limiter.limit(TICKET_LIMIT_PER_EMAIL, methods=["POST"], key_func=_email_key)
@login_exempt
def new_ticket():
    """The ticket form: a signed-in customer's goes straight to the queue; a visitor's waits for the link
    emailed to the address they gave."""
    customer = signed_in_customer()
    form = SignedInTicketForm() if customer is not None else PublicTicketForm()
    if not form.validate_on_submit():
        return _ticket_form(form, customer, 400 if form.is_submitted() else 200)
    if customer is None and form.website.data:
        return render_template("helpdesk/ticket_sent.html", email=form.email.data.strip())
    try:
        files = attachments.check(request.files.getlist(form.attachments.name))
    except attachments.AttachmentError as exc:
        form.attachments.errors = [str(exc)]
        return _ticket_form(form, customer, 400)
    fields = {"subject": form.subject.data, "body": form.message.data, "files": files}
    if customer is not None:
        ticket = tickets.submit_signed_in(customer, **fields)
        db.session.commit()
        flash(f"Your request #{ticket.id} is with our team. We'll email you when we answer.", "success")
        return redirect(url_for("helpdesk.ticket", ticket_id=ticket.id))
    tickets.submit_public(name=form.name.data, email=form.email.data, **fields)
    db.session.commit()
    return render_template("helpdesk/ticket_sent.html", email=form.email.data.strip())


def _ticket_form(form, customer, status: int):
    return render_template("helpdesk/new_ticket.html", form=form, customer=customer), status


@helpdesk.route("/tickets/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(TICKET_LIMIT_PER_IP, methods=["POST"])
@login_exempt
def confirm_ticket(token: str):
    """The link from the confirmation email. Opening it asks for one press (mail scanners that open links
    do not send tickets); pressing puts the ticket in the queue."""
    form = ButtonForm()
    if request.method == "GET" or not form.validate_on_submit():
        waiting = tickets.pending_confirmation(token)
        if waiting is None:
            return _link_not_valid()
        return private(render_template("helpdesk/confirm_ticket.html", ticket=waiting, form=form))
    ticket = tickets.confirm(token)
    if ticket is None:
        db.session.rollback()
        return _link_not_valid()
    db.session.commit()
    return private(render_template("helpdesk/ticket_confirmed.html", ticket=ticket))


def _link_not_valid():
    page = render_template("account/link_not_valid.html", ask_url=url_for("helpdesk.new_ticket"),
                           ask_label="Send your request again")
    return private(page, 404)


# -- the customer's tickets -------------------------------------------------------------------------------


@helpdesk.get("/tickets")
@login_exempt
@customer_required
def my_tickets():
    return render_template("helpdesk/tickets.html", tickets=tickets.customer_tickets(signed_in_customer().id))


@helpdesk.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
@limiter.limit(REPLY_LIMIT, methods=["POST"])
@login_exempt
@customer_required
def ticket(ticket_id: int):
    return ticket_page(signed_in_customer(), ticket_id, template="helpdesk/ticket.html",
                       endpoint="helpdesk.ticket")


@helpdesk.get("/tickets/<int:ticket_id>/files/<int:attachment_id>")
@login_exempt
@customer_required
def ticket_file(ticket_id: int, attachment_id: int):
    return ticket_download(signed_in_customer(), ticket_id, attachment_id)


def ticket_page(customer, ticket_id: int, *, template: str, endpoint: str):
    """A customer's ticket (status and thread, no internal notes) with their reply form; shared by the help
    site and the portal's tab. ``endpoint`` is this page's, and ``endpoint + "_file"`` its downloads'."""
    record = tickets.customer_ticket(ticket_id, customer.id)
    if record is None:
        abort(404)
    form = ReplyForm()
    status = 200
    if form.validate_on_submit():
        try:
            files = attachments.check(request.files.getlist(form.attachments.name))
            tickets.customer_reply(record, customer, body=form.message.data, files=files)
        except (attachments.AttachmentError, tickets.TicketError) as exc:
            db.session.rollback()
            form.message.errors = [str(exc)]
        else:
            db.session.commit()
            flash("Your reply is sent to our team.", "success")
            return redirect(url_for(endpoint, ticket_id=ticket_id, _anchor="latest"))
    if form.is_submitted():
        status = 400
    return render_template(template, ticket=record, messages=tickets.customer_thread(record.id), form=form,
                           endpoint=endpoint), status


def ticket_download(customer, ticket_id: int, attachment_id: int):
    """A file of the customer's own ticket, as a download (404 for anything else)."""
    record = tickets.customer_ticket(ticket_id, customer.id)
    found = tickets.customer_attachment(attachment_id, ticket_id) if record is not None else None
    if found is None:
        abort(404)
    return attachments.download(found)
