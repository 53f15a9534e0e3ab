from plugins.payments_stripe.testing import stripe_api  # noqa: F401  (fixtures)
