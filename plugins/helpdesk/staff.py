"""The help desk in the staff console: the ticket queue (filters, assignment, replies, internal notes,
statuses) and the knowledge base's categories and articles. Every page needs the ``tickets`` permission."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from core.plugin_api import Customer, StaffUser, db
from plugins.helpdesk import articles, attachments, settings, tickets
from plugins.helpdesk.blueprints import console
from plugins.helpdesk.forms import (
    ArticleForm,
    AssignForm,
    CategoryForm,
    NoteForm,
    StaffReplyForm,
    StatusForm,
)
from plugins.helpdesk.models import (
    TICKET_STATUSES,
    HelpArticle,
    HelpCategory,
    Ticket,
    TicketAttachment,
    TicketMessage,
)

PER_PAGE = 25
UNASSIGNED = "none"
MINE = "me"
NO_CATEGORY = ""


def _staff_choices() -> dict[str, str]:
    members = db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.name))
    return {str(member.id): member.name for member in members}


# -- the queue --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    status: str
    assignee: str
    customer_id: int | None
    query: str

    @classmethod
    def from_request(cls) -> QueueFilters:
        args = request.args
        status = args.get("status", "open")
        return cls(status=status if status in TICKET_STATUSES else "",
                   assignee=args.get("assignee", ""), customer_id=args.get("customer", type=int),
                   query=(args.get("q") or "").strip()[:200])

    def conditions(self) -> list:
        conditions = [Ticket.status.in_([self.status] if self.status else list(TICKET_STATUSES))]
        if self.assignee == MINE:
            conditions.append(Ticket.assignee_id == current_user.id)
        elif self.assignee == UNASSIGNED:
            conditions.append(Ticket.assignee_id.is_(None))
        elif self.assignee.isdigit():
            conditions.append(Ticket.assignee_id == int(self.assignee))
        if self.customer_id:
            conditions.append(Ticket.customer_id == self.customer_id)
        if self.query:
            pattern = f"%{self.query.lower()}%"
            conditions.append(or_(*(func.lower(column).like(pattern)
                                    for column in (Ticket.subject, Ticket.email, Ticket.name))))
        return conditions

    def args(self) -> dict:
        values = {"status": self.status, "assignee": self.assignee, "customer": self.customer_id,
                  "q": self.query}
        return {name: value for name, value in values.items() if value}


@console.get("/tickets")
def queue():
    """The queue, most recently active first, filtered and paginated."""
    filters = QueueFilters.from_request()
    page = db.paginate(select(Ticket).where(*filters.conditions())
                       .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc()), per_page=PER_PAGE,
                       error_out=False)
    customer = db.session.get(Customer, filters.customer_id) if filters.customer_id else None
    return render_template("helpdesk/console/queue.html", page=page, filters=filters,
                           statuses=TICKET_STATUSES, staff=_staff_choices(), customer=customer,
                           warning=settings.verification_warning())


def _queued(ticket_id: int) -> Ticket:
    ticket = db.session.scalar(select(Ticket).where(Ticket.id == ticket_id,
                                                    Ticket.status.in_(TICKET_STATUSES)))
    if ticket is None:
        abort(404)
    return ticket


@console.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int):
    record = _queued(ticket_id)
    return _ticket_page(record)


def _ticket_page(record: Ticket, *, reply_form=None, note_form=None, status: int = 200):
    staff = _staff_choices()
    assign_form = AssignForm(formdata=None, assignee=str(record.assignee_id or ""))
    assign_form.assignee.choices = {"": "Nobody"} | staff
    return render_template(
        "helpdesk/console/ticket.html", ticket=record, messages=tickets.staff_thread(record.id),
        customer=db.session.get(Customer, record.customer_id) if record.customer_id else None,
        reply_form=reply_form or StaffReplyForm(formdata=None),
        note_form=note_form or NoteForm(formdata=None),
        assign_form=assign_form, status_form=StatusForm(formdata=None, status=record.status),
        assignee=staff.get(str(record.assignee_id)),
    ), status


@console.post("/tickets/<int:ticket_id>/reply")
def reply(ticket_id: int):
    record = _queued(ticket_id)
    form = StaffReplyForm()
    if not form.validate_on_submit():
        return _ticket_page(record, reply_form=form, status=400)
    tickets.staff_reply(record, current_user, body=form.message.data, status=form.status.data)
    db.session.commit()
    flash(f"Reply sent to {record.email}; the ticket is {TICKET_STATUSES[form.status.data].lower()}.",
          "success")
    return redirect(url_for("helpdesk_console.ticket", ticket_id=ticket_id))


@console.post("/tickets/<int:ticket_id>/note")
def note(ticket_id: int):
    record = _queued(ticket_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _ticket_page(record, note_form=form, status=400)
    tickets.add_note(record, current_user, body=form.note.data)
    db.session.commit()
    flash("Note added. Only staff see it.", "success")
    return redirect(url_for("helpdesk_console.ticket", ticket_id=ticket_id))


@console.post("/tickets/<int:ticket_id>/assign")
def assign(ticket_id: int):
    record = _queued(ticket_id)
    form = AssignForm()
    form.assignee.choices = {"": "Nobody"} | _staff_choices()
    if form.validate_on_submit():
        tickets.assign(record, int(form.assignee.data) if form.assignee.data else None)
        db.session.commit()
        flash("Assignment saved.", "success")
    else:
        flash("Choose a member of staff, or nobody.", "error")
    return redirect(url_for("helpdesk_console.ticket", ticket_id=ticket_id))


@console.post("/tickets/<int:ticket_id>/status")
def change_status(ticket_id: int):
    record = _queued(ticket_id)
    form = StatusForm()
    if form.validate_on_submit():
        tickets.set_status(record, form.status.data)
        db.session.commit()
        flash(f"The ticket is {TICKET_STATUSES[form.status.data].lower()}.", "success")
    else:
        flash("Choose one of the statuses.", "error")
    return redirect(url_for("helpdesk_console.ticket", ticket_id=ticket_id))


@console.get("/tickets/<int:ticket_id>/files/<int:attachment_id>")
def ticket_file(ticket_id: int, attachment_id: int):
    _queued(ticket_id)
    found = db.session.scalar(
        select(TicketAttachment).join(TicketMessage, TicketMessage.id == TicketAttachment.message_id)
        .where(TicketAttachment.id == attachment_id, TicketMessage.ticket_id == ticket_id))
    if found is None:
        abort(404)
    return attachments.download(found)


# -- the knowledge base -----------------------------------------------------------------------------------


def _category_choices() -> dict[str, str]:
    categories = db.session.scalars(select(HelpCategory).order_by(HelpCategory.position, HelpCategory.name))
    return {NO_CATEGORY: "No category"} | {str(c.id): c.name for c in categories}


@console.get("/articles")
def articles_page():
    rows = db.session.scalars(select(HelpArticle)
                              .order_by(HelpArticle.updated_at.desc(), HelpArticle.id.desc()).limit(200))
    categories = db.session.scalars(select(HelpCategory).order_by(HelpCategory.position, HelpCategory.name))
    return render_template("helpdesk/console/articles.html", articles=list(rows), categories=list(categories),
                           category_form=CategoryForm(formdata=None))


@console.route("/articles/new", methods=["GET", "POST"])
def new_article():
    return _article_form(None)


@console.route("/articles/<int:article_id>", methods=["GET", "POST"])
def edit_article(article_id: int):
    return _article_form(db.get_or_404(HelpArticle, article_id))


def _article_form(record: HelpArticle | None):
    form = ArticleForm(obj=None)
    form.category.choices = _category_choices()
    if record is not None and not form.is_submitted():
        form.title.data, form.body.data, form.status.data = record.title, record.body_markdown, record.status
        form.category.data = str(record.category_id or NO_CATEGORY)
    if form.validate_on_submit():
        saved = articles.save_article(record, title=form.title.data, body_markdown=form.body.data,
                                      category_id=int(form.category.data) if form.category.data else None,
                                      status=form.status.data)
        db.session.commit()
        flash(f"“{saved.title}” is saved ({saved.status}).", "success")
        return redirect(url_for("helpdesk_console.edit_article", article_id=saved.id))
    return render_template("helpdesk/console/article_form.html", form=form, article=record), \
        400 if form.is_submitted() else 200


@console.post("/categories")
def new_category():
    form = CategoryForm()
    if form.validate_on_submit():
        saved = articles.save_category(None, name=form.name.data, description=form.description.data,
                                       position=form.position.data)
        db.session.commit()
        flash(f"Category “{saved.name}” added.", "success")
    else:
        flash("A category needs a name (and an order from 0 to 999).", "error")
    return redirect(url_for("helpdesk_console.articles_page"))


@console.route("/categories/<int:category_id>", methods=["GET", "POST"])
def edit_category(category_id: int):
    record = db.get_or_404(HelpCategory, category_id)
    form = CategoryForm(obj=record)
    if form.validate_on_submit():
        articles.save_category(record, name=form.name.data, description=form.description.data,
                               position=form.position.data)
        db.session.commit()
        flash(f"Category “{record.name}” saved.", "success")
        return redirect(url_for("helpdesk_console.articles_page"))
    return render_template("helpdesk/console/category_form.html", form=form, category=record), \
        400 if form.is_submitted() else 200
