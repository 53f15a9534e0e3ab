"""The portal's Tickets tab: the customer's tickets, each with its thread and a reply form, as on the help
site (the same pages' logic, in the portal's frame)."""

from __future__ import annotations

from flask import render_template

from core.plugin_api import limiter
from plugins.helpdesk import tickets
from plugins.helpdesk.blueprints import portal_tickets
from plugins.helpdesk.identity import portal_customer
from plugins.helpdesk.views import REPLY_LIMIT, ticket_download, ticket_page


@portal_tickets.get("/")
def tickets_tab():
    return render_template("helpdesk/portal_tickets.html",
                           tickets=tickets.customer_tickets(portal_customer().id))


@portal_tickets.route("/<int:ticket_id>", methods=["GET", "POST"])
@limiter.limit(REPLY_LIMIT, methods=["POST"])
def ticket(ticket_id: int):
    return ticket_page(portal_customer(), ticket_id, template="helpdesk/portal_ticket.html",
                       endpoint="helpdesk_portal.ticket")


@portal_tickets.get("/<int:ticket_id>/files/<int:attachment_id>")
def ticket_file(ticket_id: int, attachment_id: int):
    return ticket_download(portal_customer(), ticket_id, attachment_id)
