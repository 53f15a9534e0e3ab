"""The customer account's blueprint: the customer realm, so its pages see only customer logins."""

from core.plugins.blueprints import customer_blueprint

bp = customer_blueprint("account", __name__, url_prefix="/account")
