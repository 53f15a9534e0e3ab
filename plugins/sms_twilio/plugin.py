"""Text messages through Twilio: reminders and codes to verified phones, STOP and START honoured.

The hook implementations only: the channel is in :mod:`.messages`, codes in :mod:`.verification`, Twilio's
webhooks in :mod:`.webhooks`, the routes in :mod:`.views`.
"""

from flask import render_template, url_for
from sqlalchemy import select

from core.plugin_api import CustomerPhone, PortalTab, db, hookimpl, public_url, register_template
from plugins.sms_twilio import models
from plugins.sms_twilio.messages import VERIFICATION_TEMPLATE, TwilioChannel
from plugins.sms_twilio.settings import SETTINGS

TITLE = "Text messages (Twilio)"
API_VERSION = "2.5"
RECENT_TEXTS = 10

register_template(
    VERIFICATION_TEMPLATE,
    channel="sms",
    description="Text with the code that proves a phone is the customer's. Variables: code, minutes.",
    subject="",
    text="{{ business.name }}: your verification code is {{ code }}. It expires in {{ minutes }} minutes. "
         "If you did not ask for it, ignore this text.",
    sample={"code": "482913", "minutes": 10},
)


@hookimpl
def notification_channels():
    return TwilioChannel()


@hookimpl
def plugin_settings():
    return SETTINGS


@hookimpl
def register_blueprints(app):
    from plugins.sms_twilio.views import portal, public, staff

    app.register_blueprint(public)
    app.register_blueprint(staff)
    app.register_blueprint(portal)


@hookimpl
def render_plugin_settings():
    return render_template("sms_twilio/connection.html", inbound_url=public_url("sms_twilio_public.inbound"),
                           status_url=public_url("sms_twilio_public.status_callback"))


@hookimpl
def render_portal_tab():
    return PortalTab(id="texts", title="Texts and alerts", url=url_for("sms_twilio_portal.page"), order=80)


@hookimpl
def render_customer_record(customer):
    phones = db.session.scalars(select(CustomerPhone).where(CustomerPhone.customer_id == customer.id)
                                .order_by(CustomerPhone.id)).all()
    texts = db.session.scalars(
        select(models.SmsMessage).where(models.SmsMessage.customer_id == customer.id)
        .order_by(models.SmsMessage.created_at.desc(), models.SmsMessage.id.desc()).limit(RECENT_TEXTS)).all()
    return render_template("sms_twilio/customer_record.html", phones=phones, texts=texts)
