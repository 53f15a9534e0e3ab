from core.testing.browser import browser, page, served_app  # noqa: F401  (fixtures)
from plugins.payments_stripe.testing import stripe_api  # noqa: F401  (fixtures)
