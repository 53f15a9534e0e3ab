"""Core data model. Every business-owned table mixes in :class:`core.tenancy.TenantScoped`."""

from core.models.activity import ActivityEvent, AuditEntry
from core.models.autopay import AutopayAttempt, AutopayConsent, InvoiceReminder
from core.models.background import QueuedTask
from core.models.business import Business, BusinessHost
from core.models.catalog import SavedItem, TaxRate
from core.models.customer import Customer, CustomerEmail, CustomerPhone
from core.models.identity import ActionToken, AuthSession, CustomerUser, StaffUser
from core.models.invoice import INVOICE_KINDS, Invoice, InvoiceLine, InvoiceView, PayLink
from core.models.notification import (
    CustomerChannelChoice,
    DkimKey,
    NotificationSetting,
    NotificationTemplate,
    OutboxMessage,
    ReminderSent,
)
from core.models.oidc import OidcAuthorizationCode, OidcClient, OidcSigningKey
from core.models.payment import Payment, ProcessorHealth, ProcessorTask, Refund, SavedPaymentMethod
from core.models.plugin_state import PluginError, PluginState
from core.models.schedule import PeriodicRun
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
    "CustomerChannelChoice",
    "CustomerEmail",
    "CustomerPhone",
    "DkimKey",
    "CustomerUser",
    "Invoice",
    "InvoiceLine",
    "InvoiceReminder",
    "InvoiceView",
    "Job",
    "NotificationSetting",
    "NotificationTemplate",
    "OidcAuthorizationCode",
    "OidcClient",
    "OidcSigningKey",
    "OutboxMessage",
    "PayLink",
    "Payment",
    "PeriodicRun",
    "PluginError",
    "PluginState",
    "ProcessorHealth",
    "ProcessorTask",
    "QueuedTask",
    "ReminderSent",
    "Refund",
    "Reservation",
    "SavedItem",
    "SavedPaymentMethod",
    "StaffUser",
    "TaxRate",
]
