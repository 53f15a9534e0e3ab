from plugins.payments_stripe.testing import hooks, inbox, shop, stripe_api  # noqa: F401  (fixtures)
from tests.autopay.support import enrolled  # noqa: F401  (fixture)
