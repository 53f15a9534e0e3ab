"""Core data model. Every business-owned table mixes in :class:`core.tenancy.TenantScoped`."""

from core.models.activity import ActivityEvent, AuditEntry
from core.models.background import QueuedTask
from core.models.business import Business, BusinessHost
from core.models.catalog import SavedItem, TaxRate
from core.models.customer import Customer, CustomerEmail, CustomerPhone
from core.models.identity import ActionToken, AuthSession, CustomerUser, StaffUser
from core.models.invoice import INVOICE_KINDS, Invoice, InvoiceLine, InvoiceView, PayLink
from core.models.notification import NotificationTemplate, OutboxMessage
from core.models.payment import Payment, ProcessorHealth, ProcessorTask, Refund, SavedPaymentMethod
from core.models.plugin_state import PluginError, PluginState
from core.models.work import Agreement, AppointmentRequest, Job, Reservation

__all__ = [
    "INVOICE_KINDS",
    "ActionToken",
    "ActivityEvent",
    "Agreement",
    "AppointmentRequest",
    "AuditEntry",
    "AuthSession",
    "Business",
    "BusinessHost",
    "Customer",
    "CustomerEmail",
    "CustomerPhone",
    "CustomerUser",
    "Invoice",
    "InvoiceLine",
    "InvoiceView",
    "Job",
    "NotificationTemplate",
    "OutboxMessage",
    "PayLink",
    "Payment",
    "PluginError",
    "PluginState",
    "ProcessorHealth",
    "ProcessorTask",
    "QueuedTask",
    "Refund",
    "Reservation",
    "SavedItem",
    "SavedPaymentMethod",
    "StaffUser",
    "TaxRate",
]
