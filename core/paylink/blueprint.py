"""The pay link's blueprint: public, no login; the token in the address is the key."""

from core.plugins.blueprints import public_blueprint

bp = public_blueprint("paylink", __name__)
