from plugins.payments_stripe.testing import stripe_api  # noqa: F401  (fixtures)
from tests.sso.conftest import sites  # noqa: F401  (fixture: the portal and the help site on two servers)
