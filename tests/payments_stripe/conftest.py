from core.testing.payments import hooks, inbox, shop, stripe_api  # noqa: F401  (fixtures)
