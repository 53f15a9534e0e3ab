from core.testing.browser import browser, page, served_app  # noqa: F401  (fixtures)
from core.testing.payments import stripe_api  # noqa: F401  (fixtures)
