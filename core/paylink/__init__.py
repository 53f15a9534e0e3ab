"""Pay-by-link invoices: one unguessable link shows one invoice and takes its payment. No login."""

from core.plugin_api import public_blueprint

bp = public_blueprint("paylink", __name__)

from core.paylink import views  # noqa: E402,F401
