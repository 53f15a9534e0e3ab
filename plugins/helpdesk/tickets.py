"""Tickets: how they reach the queue, and the conversation after.

A ticket from the public form waits, unverified and outside the queue, until the sender follows the
single-use link emailed to the address they gave (unless the business turned that check off); one sent
by a signed-in customer goes straight in, on their record. Entering the queue is committed first and
``on_ticket_submitted`` is called after, so a plugin that fails there loses nothing. Unverified tickets are
deleted, files and all, once their link has expired.

Who is told of a ticket entering the queue and of each reply is the business's choice for core's "Ticket
submitted" and "Ticket replied" events (``notify_event``), as for any other event; only the link that
confirms a public ticket is the help desk's own email.

Internal notes are messages marked ``internal``: :func:`customer_thread` never selects them, and no email
to the customer carries one.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from core.plugin_api import (
    Customer,
    CustomerEmail,
    consume_token,
    db,
    emit_after_commit,
    issue_token,
    lock_row,
    login_of_customer,
    notify,
    notify_event,
    peek_token,
    public_url,
    record_activity,
    utcnow,
)
from plugins.helpdesk import settings
from plugins.helpdesk.attachments import CheckedFile
from plugins.helpdesk.models import TICKET_STATUSES, UNVERIFIED, Ticket, TicketAttachment, TicketMessage

CONFIRM_PURPOSE = "helpdesk_ticket"
# A customer's reply brings these back to the team; a closed ticket stays closed (they open a new one).
REOPENED_BY_REPLY = ("pending", "resolved")


class TicketError(ValueError):
    """What the customer or staff asked cannot be done to this ticket; the message says why."""


def _add_message(ticket: Ticket, *, author: str, author_name: str, body: str, internal: bool = False,
                 staff_id: int | None = None, files: list[CheckedFile] = ()) -> TicketMessage:
    message = TicketMessage(ticket_id=ticket.id, author=author, author_name=author_name, body=body.strip(),
                            internal=internal, staff_id=staff_id)
    message.attachments = [TicketAttachment(filename=f.filename, content_type=f.content_type,
                                            size=len(f.data), data=f.data) for f in files]
    db.session.add(message)
    ticket.last_activity_at = utcnow()
    db.session.flush()
    return message


def _new_ticket(*, name: str, email: str, subject: str, body: str, files: list[CheckedFile], source: str,
                customer_id: int | None = None) -> Ticket:
    ticket = Ticket(name=name.strip(), email=email.strip().lower(), subject=subject.strip(), source=source,
                    status=UNVERIFIED, customer_id=customer_id)
    db.session.add(ticket)
    db.session.flush()
    _add_message(ticket, author="customer", author_name=ticket.name, body=body, files=files)
    return ticket


def submit_public(*, name: str, email: str, subject: str, body: str, files: list[CheckedFile]) -> Ticket:
    """A ticket from the public form. In the caller's transaction.

    Every address gets the same treatment (a waiting ticket and an email with a link), so neither the page
    nor its timing tells whether an address is known. With verification off the ticket is queued at once,
    on no customer's record: an address nobody proved must not open a customer's history.
    """
    ticket = _new_ticket(name=name, email=email, subject=subject, body=body, files=files, source="public")
    if not settings.verifies_public_tickets():
        _enter_queue(ticket)
        return ticket
    ttl = timedelta(days=settings.unverified_days())
    ticket.expires_at = utcnow() + ttl
    token = issue_token(CONFIRM_PURPOSE, ttl=ttl, email=ticket.email, payload={"ticket_id": ticket.id})
    notify("helpdesk_ticket_confirm", to=ticket.email,
           context={"customer_name": ticket.name, "subject": ticket.subject,
                    "confirm_url": public_url("helpdesk.confirm_ticket", token=token),
                    "expires_at": ticket.expires_at.isoformat()})
    return ticket


def submit_signed_in(customer, *, subject: str, body: str, files: list[CheckedFile]) -> Ticket:
    """A signed-in customer's ticket: on their record and in the queue, no confirmation needed."""
    login = login_of_customer(customer.id)
    email = login.email if login is not None else customer.primary_email or ""
    ticket = _new_ticket(name=customer.name, email=email, subject=subject, body=body, files=files,
                         source="signed_in", customer_id=customer.id)
    _enter_queue(ticket)
    return ticket


def pending_confirmation(token: str) -> Ticket | None:
    """The waiting ticket the link ``token`` confirms (without using the link); None if the link is used,
    expired, unknown or its ticket is gone."""
    link = peek_token(CONFIRM_PURPOSE, token)
    if link is None:
        return None
    ticket = db.session.get(Ticket, link.payload.get("ticket_id") or 0)
    return ticket if ticket is not None and ticket.status == UNVERIFIED else None


def confirm(token: str) -> Ticket | None:
    """Use the link: the ticket enters the queue, on the record of the customer who has the proven address
    on file, if any. None when the link does not work (used, expired, unknown, ticket purged)."""
    link = consume_token(CONFIRM_PURPOSE, token)
    if link is None:
        return None
    ticket = lock_row(Ticket, link.payload.get("ticket_id") or 0)
    if ticket is None or ticket.status != UNVERIFIED:
        return None
    ticket.customer_id = db.session.scalar(select(CustomerEmail.customer_id)
                                           .where(CustomerEmail.email == ticket.email))
    _enter_queue(ticket)
    return ticket


def _enter_queue(ticket: Ticket) -> None:
    now = utcnow()
    ticket.status, ticket.queued_at, ticket.expires_at, ticket.last_activity_at = "open", now, None, now
    first = db.session.scalar(select(TicketMessage.body).where(TicketMessage.ticket_id == ticket.id)
                              .order_by(TicketMessage.id).limit(1))
    _tell("ticket_submitted", ticket, message=first, extra={"customer_email": ticket.email})
    if ticket.customer_id is not None:
        record_activity(ticket.customer_id, surface="help", kind="ticket.submitted",
                        summary=f"Sent request #{ticket.id}: {ticket.subject}", ticket_id=ticket.id)
    emit_after_commit("on_ticket_submitted", ticket=ticket)


def _tell(event: str, ticket: Ticket, *, message: str, extra: dict | None = None,
          audiences: tuple[str, ...] = ("customer", "business")) -> None:
    """Queue ``event`` about ``ticket`` and one of its messages, as the business and the customer chose."""
    context = {"customer_name": ticket.name, "ticket_reference": f"#{ticket.id}",
               "ticket_subject": ticket.subject, "message": message, "ticket_url": _customer_url(ticket),
               "queue_url": public_url("helpdesk_console.ticket", ticket_id=ticket.id)} | (extra or {})
    customer = db.session.get(Customer, ticket.customer_id) if ticket.customer_id is not None else None
    # The customer's email goes to the address the ticket came from, even when their record names another
    # as primary: it is the one they wrote from and proved (by its link, or by signing in with it), so the
    # answer lands where they expect it. A ticket on no record (verification off, or an address the business
    # does not know) is answered there too, by email alone.
    notify_event(event, customer=customer, email=ticket.email, context=context, audiences=audiences)


def _customer_url(ticket: Ticket) -> str | None:
    """The help site page of the ticket, for a customer who can sign in to see it; else None."""
    if ticket.customer_id is None or login_of_customer(ticket.customer_id) is None:
        return None
    return public_url("helpdesk.ticket", ticket_id=ticket.id)


def customer_reply(ticket: Ticket, customer, *, body: str, files: list[CheckedFile]) -> TicketMessage:
    """The customer adds to their ticket; a pending or resolved one goes back to the team."""
    ticket = lock_row(Ticket, ticket.id)
    if ticket.status == "closed":
        raise TicketError("This request is closed. Send a new one and we'll pick it up from there.")
    if ticket.status in REOPENED_BY_REPLY:
        ticket.status = "open"
    message = _add_message(ticket, author="customer", author_name=customer.name, body=body, files=files)
    _tell("ticket_replied", ticket, message=message.body, audiences=("business",))
    record_activity(customer.id, surface="help", kind="ticket.replied",
                    summary=f"Replied to request #{ticket.id}", ticket_id=ticket.id)
    emit_after_commit("on_ticket_replied", ticket=ticket, message=message)
    return message


def staff_reply(ticket: Ticket, staff, *, body: str, status: str) -> TicketMessage:
    """Staff answer the customer, who is told of the reply; the ticket takes ``status``."""
    _check_status(status)
    ticket = lock_row(Ticket, ticket.id)
    ticket.status = status
    message = _add_message(ticket, author="staff", author_name=staff.name, body=body, staff_id=staff.id)
    _tell("ticket_replied", ticket, message=message.body, audiences=("customer",),
          extra={"staff_name": staff.name, "ticket_status": status})
    emit_after_commit("on_ticket_replied", ticket=ticket, message=message)
    return message


def add_note(ticket: Ticket, staff, *, body: str) -> TicketMessage:
    """A note for the team only: never shown or sent to the customer, and calls no hook."""
    return _add_message(ticket, author="staff", author_name=staff.name, body=body, internal=True,
                        staff_id=staff.id)


def assign(ticket: Ticket, staff_id: int | None) -> None:
    ticket.assignee_id = staff_id


def set_status(ticket: Ticket, status: str) -> None:
    _check_status(status)
    ticket.status = status


def _check_status(status: str) -> None:
    if status not in TICKET_STATUSES:
        raise TicketError("Choose one of the statuses.")


def customer_ticket(ticket_id: int, customer_id: int) -> Ticket | None:
    """The customer's own ticket in the queue; None for another customer's, an unverified or a missing one."""
    return db.session.scalar(select(Ticket).where(Ticket.id == ticket_id, Ticket.customer_id == customer_id,
                                                  Ticket.status.in_(TICKET_STATUSES)))


def customer_tickets(customer_id: int, *, limit: int = 50) -> list[Ticket]:
    return list(db.session.scalars(
        select(Ticket).where(Ticket.customer_id == customer_id, Ticket.status.in_(TICKET_STATUSES))
        .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc()).limit(limit)))


def customer_thread(ticket_id: int) -> list[TicketMessage]:
    """What the customer sees of a ticket: its replies, never internal notes, with their files listed."""
    return list(db.session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket_id, TicketMessage.internal.is_(False))
        .options(selectinload(TicketMessage.attachments)).order_by(TicketMessage.id)))


def staff_thread(ticket_id: int) -> list[TicketMessage]:
    """Everything on a ticket, internal notes included, for staff."""
    return list(db.session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
        .options(selectinload(TicketMessage.attachments)).order_by(TicketMessage.id)))


def customer_attachment(attachment_id: int, ticket_id: int) -> TicketAttachment | None:
    """A file of a customer-visible message of ``ticket_id`` (the caller checked the ticket is theirs)."""
    return db.session.scalar(
        select(TicketAttachment).join(TicketMessage, TicketMessage.id == TicketAttachment.message_id)
        .where(TicketAttachment.id == attachment_id, TicketMessage.ticket_id == ticket_id,
               TicketMessage.internal.is_(False)))


def purge_unverified() -> int:
    """Delete the current business's unverified tickets whose link has expired, with their messages and
    files. Returns how many tickets went."""
    expired = select(Ticket.id).where(Ticket.status == UNVERIFIED, Ticket.expires_at <= utcnow())
    ticket_ids = list(db.session.scalars(expired))
    if not ticket_ids:
        return 0
    messages = select(TicketMessage.id).where(TicketMessage.ticket_id.in_(ticket_ids))
    for statement in (delete(TicketAttachment).where(TicketAttachment.message_id.in_(messages)),
                      delete(TicketMessage).where(TicketMessage.ticket_id.in_(ticket_ids)),
                      delete(Ticket).where(Ticket.id.in_(ticket_ids))):
        db.session.execute(statement.execution_options(synchronize_session=False))
    db.session.commit()
    return len(ticket_ids)
