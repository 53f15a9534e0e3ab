"""The customer login: signing in and out (on one device or all), password reset and change, confirming a
changed email address, and invitations to create a login. Plugins build the customer's pages on it (the
portal, the help site); core serves the login so every customer surface shares one.
"""

# Importing the module attaches its routes to the blueprint.
from core.account import views  # noqa: F401
from core.account.blueprint import bp

__all__ = ["bp"]
