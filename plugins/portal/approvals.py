"""The approval queue: staff link a waiting sign-up to a customer record (an existing one, or a new one made
from the application) and the applicant is emailed a link to choose a password; or staff decline, and the
applicant is told."""

from __future__ import annotations

from sqlalchemy import select

from core.plugin_api import (
    Customer,
    CustomerEmail,
    customer_search,
    db,
    lock_row,
    notify,
    record_activity,
    send_invitation,
    utcnow,
)
from plugins.portal.models import PortalApplication

NEW_CUSTOMER = "new"
SUGGESTIONS = 10


class ApprovalError(ValueError):
    """The application cannot be approved like this; the message is for staff."""


def waiting() -> list[PortalApplication]:
    return list(db.session.scalars(select(PortalApplication).where(PortalApplication.status == "pending")
                                   .order_by(PortalApplication.created_at)))


def recently_decided(limit: int = 20) -> list[PortalApplication]:
    return list(db.session.scalars(select(PortalApplication).where(PortalApplication.status != "pending")
                                   .order_by(PortalApplication.decided_at.desc()).limit(limit)))


def candidates(application: PortalApplication, query: str | None) -> list[Customer]:
    """Customers staff may link the applicant to: those matching ``query``, else the applicant's name."""
    statement = select(Customer).where(customer_search(query or application.name)).order_by(Customer.name)
    return list(db.session.scalars(statement.limit(SUGGESTIONS)))


def approve(application_id: int, customer_choice: str, *, staff_name: str) -> Customer:
    """Link the application to ``customer_choice`` (a customer id, or ``NEW_CUSTOMER``) and email the
    applicant a link to choose a password. The confirmed address joins the customer's record, verified.
    In the caller's transaction."""
    application = _pending(application_id)
    if customer_choice == NEW_CUSTOMER:
        customer = Customer(name=application.name)
        db.session.add(customer)
        db.session.flush()
    else:
        customer = db.session.get(Customer, int(customer_choice)) if customer_choice.isdigit() else None
        if customer is None:
            raise ApprovalError("Choose a customer from the list, or a new one.")
    _put_address_on_file(customer, application)
    if not send_invitation(customer, email=application.email, invited_by=staff_name,
                           template_key="portal_application_approved"):
        raise ApprovalError(f"{application.email} has a portal login already, or the portal is off.")
    _decide(application, "approved", staff_name, customer_id=customer.id)
    record_activity(customer.id, surface="console", kind="account.application_approved",
                    summary=f"Portal sign-up of {application.email} approved by {staff_name}")
    return customer


def decline(application_id: int, *, staff_name: str) -> PortalApplication:
    """Refuse the application; the applicant is emailed. In the caller's transaction."""
    application = _pending(application_id)
    _decide(application, "declined", staff_name)
    notify("portal_application_declined", to=application.email, context={"applicant_name": application.name})
    return application


def _pending(application_id: int) -> PortalApplication:
    application = lock_row(PortalApplication, application_id)
    if application is None or application.status != "pending":
        raise ApprovalError("This sign-up was already decided.")
    return application


def _put_address_on_file(customer: Customer, application: PortalApplication) -> None:
    on_file = db.session.scalar(select(CustomerEmail).where(CustomerEmail.email == application.email))
    if on_file is not None and on_file.customer_id != customer.id:
        raise ApprovalError(f"{application.email} is on file for another customer; link the sign-up to that "
                            "customer instead.")
    if on_file is None:
        is_primary = not customer.emails
        customer.emails.append(CustomerEmail(email=application.email, is_primary=is_primary,
                                             verified_at=application.created_at))


def _decide(application: PortalApplication, status: str, staff_name: str, *, customer_id: int | None = None):
    application.status = status
    application.decided_at = utcnow()
    application.decided_by = staff_name
    application.customer_id = customer_id
