"""The plugin's pages: a customer's points in the portal, and every customer's balance for staff.

The blueprints come from ``customer_blueprint`` and ``staff_blueprint``, so core knows their login realm
(a staff login never opens the customer page, and the other way round; each blueprint requires its login on
every route, and the staff one a permission of the member's role) and which plugin owns them (they answer
404 for a business that switched the plugin off).
"""

from flask import render_template
from flask_login import current_user

from core.plugin_api import customer_blueprint, staff_blueprint
from suprata_loyalty import points

portal = customer_blueprint("loyalty", __name__, url_prefix="/loyalty", template_folder="templates")
# Every route of a staff blueprint declares what a role needs to open it; customers' balances are
# customer records, so the roles that see customers see them.
console = staff_blueprint("loyalty_console", __name__, url_prefix="/console/loyalty",
                          template_folder="templates", permission="customers")


@portal.get("/")
def my_points():
    customer_id = current_user.customer_id
    return render_template("loyalty/points.html", balance=points.balance(customer_id),
                           history=points.history(customer_id))


@console.get("/")
def customer_balances():
    return render_template("loyalty/balances.html", balances=points.balances(), recent=points.recent())
