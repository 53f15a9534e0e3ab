"""The portal's two blueprints: the customer's pages and the staff's (approval queue, appointment requests).

Both come from core's realm helpers, so every route needs the right login of the current business (and, for
customers, a confirmed email address); the sign-up and invitation pages are the marked exceptions.
"""

from core.plugin_api import customer_blueprint, staff_blueprint

portal = customer_blueprint("portal", __name__, url_prefix="/portal", template_folder="templates")
console = staff_blueprint("portal_console", __name__, url_prefix="/console/portal",
                          template_folder="templates")
