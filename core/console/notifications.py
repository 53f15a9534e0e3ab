"""Who is told about each event and on which channels, the messages in the business's own words (edit,
preview, reset), and the outbox's problems."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from core.activity import audit
from core.console.blueprint import bp
from core.console.forms import TemplateForm
from core.extensions import db
from core.identity.roles import requires_permission
from core.models import NotificationTemplate, OutboxMessage
from core.notifications.events import (
    AUDIENCES,
    CHANNEL_TITLES,
    NotificationSettingError,
    channel_available,
    event_choices,
    save_event_choice,
)
from core.notifications.outbox import OutboxStateError, retry
from core.notifications.sms_text import sms_length
from core.notifications.templates import (
    TemplateDefault,
    Wording,
    defaults_for_business,
    get_default,
    offered_to_business,
    preview,
    validate,
    variables,
)
from core.web.headers import allow_inline_styles

PER_PAGE = 25
# What staff must act on: given up (failed), or still waiting for a delivery attempt (pending).
OUTBOX_SHOWN = ("failed", "pending")


@bp.route("/notifications", methods=["GET", "POST"])
@requires_permission("templates")
def notification_events():
    """Per event: is the customer told, is the business's inbox, on which channels; reminders' lead times."""
    problems = []
    if request.method == "POST":
        for key in event_choices():
            option = request.form.get(f"{key}-option", "").strip()
            try:
                save_event_choice(key, customer=request.form.getlist(f"{key}-customer"),
                                  business=request.form.getlist(f"{key}-business"),
                                  option=int(option) if option else None)
            except ValueError as exc:  # NotificationSettingError, or a number that isn't one
                problems.append(str(exc) if isinstance(exc, NotificationSettingError)
                                else f"{key}: enter a whole number.")
        if not problems:
            audit("notifications.changed", "notification settings")
            db.session.commit()
            flash("Notification settings are saved.", "success")
            return redirect(url_for("console.notification_events"))
        db.session.rollback()
    page = render_template("console/notifications/events.html", choices=event_choices().values(),
                           audiences=AUDIENCES, channel_titles=CHANNEL_TITLES, problems=problems,
                           available={c: channel_available(c) for c in CHANNEL_TITLES})
    return page, 400 if problems else 200


@bp.get("/settings/notifications")
@requires_permission("templates")
def notification_templates():
    custom = {row.key: row for row in db.session.scalars(select(NotificationTemplate))}
    return render_template("console/notifications/templates.html", defaults=defaults_for_business(),
                           custom=custom)


def _default_or_404(key: str):
    if not offered_to_business(key):
        abort(404)
    return get_default(key)


def _custom(key: str) -> NotificationTemplate | None:
    return db.session.scalar(select(NotificationTemplate).where(NotificationTemplate.key == key))


@bp.route("/settings/notifications/<key>", methods=["GET", "POST"])
@requires_permission("templates")
def edit_notification_template(key: str):
    """Edit one message; "Preview" renders the draft with sample values below the form, saving nothing."""
    default = _default_or_404(key)
    custom = _custom(key)
    if request.method == "GET":
        form = TemplateForm(data=_editor_data(default, custom))
    else:
        form = TemplateForm()
    rendered = None
    if default.channel == "sms":
        form.text.label.text = "Text message"
    if request.method == "GET" and default.channel == "sms":
        # A text's length depends on the values put in it, so it is always shown as sent with samples.
        rendered = preview(key, Wording(subject="", text=_editor_data(default, custom)["text"]))
    if form.validate_on_submit():
        wording = _wording_of(form, default)
        if form.preview.data:
            rendered = preview(key, wording)
            if rendered.html:
                allow_inline_styles()  # the email's own markup, shown in a sandboxed frame
        else:
            problems = validate(wording, key=key)
            if not problems:
                _save(key, custom, wording)
                flash("The template is saved.", "success")
                return redirect(url_for("console.notification_templates"))
            form.form_errors.extend(problems)
    status = 400 if form.errors else 200
    page = render_template(
        "console/notifications/edit.html",
        key=key,
        default=default,
        custom=custom,
        form=form,
        preview=rendered,
        length=_length_of(default, rendered),
        variables=variables(key),
    )
    return page, status


def _length_of(default: TemplateDefault, rendered):
    """A text message's length and segments as rendered with sample values; None for email."""
    if default.channel != "sms" or rendered is None or rendered.error:
        return None
    return sms_length(rendered.text)


def _editor_data(default: TemplateDefault, custom: NotificationTemplate | None) -> dict:
    """The business's own wording if it has one (a blank subject means the default one), else the default."""
    if custom is None:
        return {"subject": default.subject, "text": default.text, "text_after": default.text_after}
    return {"subject": custom.subject, "text": custom.body_text, "text_after": custom.body_text_after}


def _wording_of(form: TemplateForm, default: TemplateDefault) -> Wording:
    """The draft in the form: one body (and, for a message that carries a link, the body below it)."""
    if default.channel == "sms":
        return Wording(subject="", text=form.text.data)  # a text has no subject or HTML
    around_link = default.access_link is not None
    return Wording(subject=form.subject.data or "", text=form.text.data,
                   text_after=(form.text_after.data or "") if around_link else "")


def _save(key: str, custom: NotificationTemplate | None, wording: Wording) -> None:
    if custom is None:
        custom = NotificationTemplate(key=key)
        db.session.add(custom)
    custom.subject, custom.body_text = wording.subject or None, wording.text
    custom.body_text_after = wording.text_after or None
    custom.last_error = custom.last_error_at = None
    audit("template.changed", f"template {key}")
    db.session.commit()


@bp.post("/settings/notifications/<key>/reset")
@requires_permission("templates")
def reset_notification_template(key: str):
    _default_or_404(key)
    custom = _custom(key)
    if custom is not None:
        db.session.delete(custom)
        audit("template.reset", f"template {key}")
        db.session.commit()
    flash("The template is back to the default wording.", "success")
    return redirect(url_for("console.notification_templates"))


@bp.get("/outbox")
@requires_permission("templates")
def outbox_page():
    page = db.paginate(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(OUTBOX_SHOWN))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("console/notifications/outbox.html", page=page)


@bp.post("/outbox/<int:message_id>/retry")
@requires_permission("templates")
def retry_notification(message_id: int):
    try:
        message = retry(message_id)
    except OutboxStateError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.outbox_page"))
    if message is None:
        abort(404)
    audit("notification.retried", f"notification {message_id}")
    db.session.commit()
    flash("The message will be sent again shortly.", "success")
    return redirect(url_for("console.outbox_page"))
