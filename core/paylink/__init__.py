"""Pay-by-link invoices: one unguessable link shows one invoice and takes its payment. No login."""

from core.paylink import views  # noqa: F401  (attaches the routes)
from core.paylink.blueprint import bp

__all__ = ["bp"]
