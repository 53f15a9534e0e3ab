"""Core data model. Every business-owned table mixes in :class:`core.tenancy.TenantScoped`."""

from core.models.activity import ActivityEvent, AuditEntry
from core.models.autopay import AutopayAttempt, AutopayConsent, InvoiceReminder
from core.models.background import QueuedTask
from core.models.business import Business, BusinessHost
from core.models.customer import Customer, CustomerEmail, CustomerPhone
from core.models.identity import ActionToken, AuthSession, CustomerUser, StaffUser
from core.models.invoice import INVOICE_KINDS, Invoice, InvoiceLine, InvoiceView, PayLink
from core.models.notification import NotificationTemplate, OutboxMessage
from core.models.payment import Payment, ProcessorTask, Refund, SavedPaymentMethod
from core.models.plugin_state import PluginError, PluginState
from core.models.work import TIME_WINDOWS, Agreement, AppointmentRequest, Job, Reservation

__all__ = [
    "INVOICE_KINDS",
    "TIME_WINDOWS",
    "ActionToken",
    "ActivityEvent",
    "Agreement",
    "AppointmentRequest",
    "AuditEntry",
    "AutopayAttempt",
    "AutopayConsent",
    "AuthSession",
    "Business",
    "BusinessHost",
    "Customer",
    "CustomerEmail",
    "CustomerPhone",
    "CustomerUser",
    "Invoice",
    "InvoiceLine",
    "InvoiceReminder",
    "InvoiceView",
    "Job",
    "NotificationTemplate",
    "OutboxMessage",
    "PayLink",
    "Payment",
    "PluginError",
    "PluginState",
    "ProcessorTask",
    "QueuedTask",
    "Refund",
    "Reservation",
    "SavedPaymentMethod",
    "StaffUser",
]
