"""The help desk's blueprints: the help site, its Tickets tab in the portal, and the staff's pages.

The help site is open to visitors; it belongs to the customer realm so that it knows a signed-in customer
(:mod:`plugins.helpdesk.identity` decides who that is), and its customer-only pages say so themselves. The
portal tab is a portal page, behind core's customer login. The staff pages need the ``tickets``
permission (support staff have it; it opens no money action).
"""

from core.plugin_api import customer_blueprint, staff_blueprint

helpdesk = customer_blueprint("helpdesk", __name__, url_prefix="/help", template_folder="templates")
portal_tickets = customer_blueprint("helpdesk_portal", __name__, url_prefix="/portal/tickets",
                                    template_folder="templates")
console = staff_blueprint("helpdesk_console", __name__, url_prefix="/console/help", permission="tickets",
                          template_folder="templates")
