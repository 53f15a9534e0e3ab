"""Demo data: two businesses with their own branding, staff, customers, invoices, work and timelines.

``seed_demo`` is idempotent: a demo business that exists already is kept as it is (``reset=True`` deletes
and seeds it again). A pay link's token is only known when the link is issued, so every run issues fresh
links for a few open invoices and reports them, and earlier links keep working.
"""

from __future__ import annotations

import hashlib
import urllib.parse
import urllib.request
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import stripe
from flask import current_app
from sqlalchemy import select

from core.activity import record
from core.extensions import db
from core.identity.passwords import hash_password
from core.identity.staff import add_staff_member
from core.models import (
    Agreement,
    AppointmentRequest,
    Business,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomerUser,
    Invoice,
    InvoiceLine,
    InvoiceView,
    Job,
    Payment,
    Reservation,
    SavedItem,
    StaffUser,
    TaxRate,
)
from core.money.invoicing import (
    find_pay_link,
    issue_pay_link,
    next_invoice_number,
    send_invoice,
    void_invoice,
)
from core.money.payments.ledger import record_payment_captured
from core.money.payments.offline import record_offline_payment
from core.money.payments.types import CardDetails, Consent
from core.money.payments.wording import save_card_wording
from core.notifications.mail_auth import generate_key
from core.plugins.settings import save_settings, set_enabled
from core.tenancy import business_context, utcnow
from core.tenancy.businesses import create_business, delete_business
from core.tenancy.state import business_cache
from core.tenancy.urls import business_base_url, public_url_for
from core.testing.twilio_server import ACCOUNT_SID as TWILIO_TEST_ACCOUNT
from core.testing.twilio_server import AUTH_TOKEN as TWILIO_TEST_TOKEN
from core.web.themes import THEMES_DIR

BUNDLED_PLUGINS = ("payments_stripe", "sms_twilio", "helpdesk", "portal")
# The example third-party plugin (examples/suprata-loyalty), switched on when run-demo installed it.
LOYALTY_PLUGIN = "loyalty"
PORTAL_PASSWORD = "demo-pass-portal"  # noqa: S105 - a published demo login
SHOWCASE_PAY_LINKS = 2  # open invoices whose fresh pay links each run prints
# Test-mode keys that only the local Stripe test server accepts (the app reaches it through
# SUPRATA_STRIPE_API_BASE); the webhook secret is the one the demo registers there for each business.
DEMO_STRIPE_SETTINGS = {
    "mode": "test",
    "test_secret_key": "sk_test_suprata_demo",
    "webhook_secret": "whsec_suprata_demo",  # noqa: S105 - known to the local test server only
}


# The local Twilio test server's own account: the app reaches it through SUPRATA_TWILIO_API_BASE.
DEMO_TWILIO_SETTINGS = {"mode": "test", "account_sid": TWILIO_TEST_ACCOUNT, "auth_token": TWILIO_TEST_TOKEN}


# -- what the demo businesses hold ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    company: str | None
    address: str
    emails: tuple[tuple[str, bool], ...]  # (address, verified)
    phones: tuple[tuple[str, str, bool], ...]  # (E.164 number, label, verified)
    notes: str | None = None


@dataclass(frozen=True)
class DemoInvoice:
    customer: int  # index into the business's customers
    kind: str
    status: str  # draft, open, part_paid (half paid by cheque), paid or void
    issued_days_ago: int
    lines: tuple[tuple[str, str, int, int | None], ...]  # (description, quantity, unit price, unit cost)
    memo: str | None = None
    internal_notes: str | None = None


@dataclass(frozen=True)
class DemoJob:
    customer: int
    title: str
    description: str
    status: str  # requested, scheduled, done
    starts_in_days: int
    start_hour: int
    hours: int
    cost: int | None = None
    request: tuple[str, str] | None = None  # (preferred window, customer's notes) of its appointment request
    # Starts this many hours after seeding instead (then starts_in_days and start_hour are ignored): soon
    # enough for the worker to send its reminder within minutes.
    starts_in_hours: int | None = None


@dataclass(frozen=True)
class DemoAgreement:
    customer: int
    title: str
    signed_days_ago: int
    months: int
    terms: tuple[str, ...]


@dataclass(frozen=True)
class DemoReservation:
    customer: int
    title: str
    starts_in_days: int
    days: int
    total: int
    paid: int


@dataclass(frozen=True)
class DemoBusiness:
    slug: str
    name: str
    theme: str
    brand_color: str
    accent_color: str
    timezone: str
    email: str
    phone: str
    address: str
    invoice_prefix: str
    sms_sender: str  # the business's Twilio number in the demo
    tax: tuple[str, Decimal]  # the business's default tax rate: name, basis points
    # Saved items: (name, price, cost), taxed at the default rate.
    items: tuple[tuple[str, int, int | None], ...]
    # (name, email, password, role): the first is the owner, the others show what each role may do.
    staff: tuple[tuple[str, str, str, str], ...]
    customers: tuple[DemoCustomer, ...]
    invoices: tuple[DemoInvoice, ...]
    jobs: tuple[DemoJob, ...]
    agreements: tuple[DemoAgreement, ...]
    reservations: tuple[DemoReservation, ...]
    timeline: tuple[tuple[int, str, str, str], ...]  # (customer, surface, kind, summary)
    policies: tuple[tuple[str, object], ...] = ()  # what the business changed from the defaults
    # (name, email, phone, note) of someone waiting in the portal's approval queue (a business that queues
    # sign-ups with addresses not on file: policy unknown_signup_policy = "queue").
    applicant: tuple[str, str, str, str] | None = None
    # Customers who paid a first invoice by card through Stripe and saved it, ready for autopay: (customer,
    # the test card the saved card answers as from then on: 4242... keeps paying, 4000000000009995 declines).
    card_holders: tuple[tuple[int, str], ...] = ()


ACME = DemoBusiness(
    slug="acme",
    name="Acme Plumbing",
    theme="default",
    brand_color="#1f6feb",
    accent_color="#0b3d91",
    timezone="America/New_York",
    email="office@acme.test",
    phone="+1 212 555 0100",
    address="120 Canal Street, New York, NY 10013",
    invoice_prefix="ACME-",
    sms_sender="+12125550100",
    tax=("NY sales tax", Decimal("887.5")),
    items=(("Drain cleaning", 18500, 4000), ("Service call, first hour", 12500, None),
           ("P-trap and fittings", 1250, 400), ("Water heater flush", 14500, 2000)),
    staff=(
        ("Dana Ortiz", "dana@acme.test", "demo-pass-acme", "owner"),
        ("Lee Chen", "lee@acme.test", "demo-pass-billing", "billing"),
        ("Pat Kim", "pat@acme.test", "demo-pass-support", "support"),
    ),
    customers=(
        DemoCustomer("Maria Garcia", None, "41 Mott Street, New York, NY 10013",
                     (("maria.garcia@example.test", True), ("maria@garcia-family.test", False)),
                     (("+12125550142", "mobile", True), ("+12125550143", "home", False))),
        DemoCustomer("James Chen", "Chen Noodle House", "88 Bayard Street, New York, NY 10013",
                     (("james@chen-noodles.test", True), ("accounts@chen-noodles.test", True)),
                     (("+12125550177", "mobile", True),), notes="Grease trap serviced quarterly."),
        DemoCustomer("Priya Patel", None, "300 West 23rd Street, Apt 5C, New York, NY 10011",
                     (("priya.patel@example.test", True),), (("+19175550123", "mobile", False),)),
        DemoCustomer("Robert Johnson", "Johnson Property Management", "19 Spring Street, New York, NY 10012",
                     (("rjohnson@jpm.test", True), ("maintenance@jpm.test", False)),
                     (("+12125550190", "office", True), ("+19175550191", "mobile", True)),
                     notes="Manages six buildings; send invoices to the maintenance inbox too."),
        DemoCustomer("Aisha Williams", None, "72 Orchard Street, New York, NY 10002",
                     (("aisha.w@example.test", False),), (("+16465550155", "mobile", True),)),
        DemoCustomer("Tom Becker", "Becker Bakery", "5 Hester Street, New York, NY 10002",
                     (("tom@beckerbakery.test", True),), (("+12125550166", "shop", False),)),
        DemoCustomer("Lucia Romano", None, "230 Elizabeth Street, New York, NY 10012",
                     (("lucia.romano@example.test", True), ("lromano@work.test", False)),
                     (("+16465550188", "mobile", True),)),
        DemoCustomer("Kevin O'Brien", None, "14 Prince Street, New York, NY 10012",
                     (("kevin.obrien@example.test", False),), ()),
    ),
    invoices=(
        DemoInvoice(0, "one_off", "open", 3, (("Kitchen sink drain repair", "1", 18500, 6000),
                                              ("P-trap and fittings", "2", 1250, 400)),
                    memo="Thank you for choosing Acme Plumbing."),
        DemoInvoice(1, "service_agreement", "open", 10,
                    (("Quarterly grease trap service", "1", 42000, 15000),),
                    internal_notes="Crew of two, 3 hours."),
        DemoInvoice(2, "recurring_rental", "paid", 35,
                    (("Water softener rental, monthly", "1", 3900, None),)),
        DemoInvoice(3, "subscription", "part_paid", 6,
                    (("Building maintenance plan, 6 units", "6", 2500, None),)),
        DemoInvoice(4, "one_off", "draft", 0, (("Water heater replacement, 50 gal", "1", 145000, 98000),
                                               ("Haul-away of old unit", "1", 7500, None)),
                    internal_notes="Quote accepted by phone; confirm install date."),
        DemoInvoice(5, "one_off", "void", 20, (("Emergency call-out", "1", 22500, None),),
                    internal_notes="Duplicate of an invoice paid on site."),
        DemoInvoice(6, "subscription", "paid", 40, (("Home protection plan, monthly", "1", 1999, None),)),
        DemoInvoice(3, "service_agreement", "draft", 0,
                    (("Annual backflow test, 6 buildings", "6", 9500, 3000),)),
        DemoInvoice(1, "recurring_rental", "void", 50, (("Drain camera rental, weekly", "1", 8000, None),)),
    ),
    jobs=(
        DemoJob(0, "Kitchen sink drain repair", "Slow drain, replaced P-trap.", "done", -3, 10, 2, 6800),
        DemoJob(0, "Water heater check", "Annual flush and anode check.", "scheduled", 0, 0, 1, 4000,
                starts_in_hours=3),
        DemoJob(1, "Quarterly grease trap service", "Pump and clean the 50 gal trap.", "scheduled",
                5, 7, 3, 15000),
        DemoJob(4, "Leaking shower valve", "Customer reports a steady drip.", "requested", 2, 9, 2,
                request=("morning", "Please call 30 minutes before arriving; buzzer is broken.")),
        DemoJob(3, "Boiler room inspection", "Yearly inspection, 19 Spring Street.", "scheduled",
                12, 13, 4, 20000,
                request=("afternoon", "Superintendent Luis will meet you at the side door.")),
    ),
    agreements=(
        DemoAgreement(1, "Grease trap service agreement", 120, 12,
                      ("Quarterly pump-out and cleaning of one grease trap.", "Price: $420.00 per visit.",
                       "Either party may cancel with 30 days' notice.")),
        DemoAgreement(3, "Building maintenance plan", 200, 24,
                      ("Priority call-outs for six residential buildings.", "Monthly fee: $25.00 per unit.")),
    ),
    reservations=(
        DemoReservation(2, "Water softener rental (12 months)", -30, 365, 46800, 7800),
        DemoReservation(6, "Pipe thawing equipment, winter hold", 20, 14, 45000, 15000),
    ),
    timeline=(
        (0, "pay_link", "invoice.viewed", "Viewed invoice from an emailed link"),
        (3, "console", "note", "Called about adding two more buildings to the plan"),
        (4, "portal", "appointment.requested", "Requested an appointment: leaking shower valve"),
        (1, "sms", "sms.reminder", "Appointment reminder sent for the grease trap service"),
    ),
    card_holders=((6, "4242424242424242"), (5, "4000000000009995")),
)

HARBOR = DemoBusiness(
    slug="harbor",
    name="Harbor HVAC",
    theme="harbor",
    brand_color="#0f766e",
    accent_color="#c2410c",
    timezone="America/Los_Angeles",
    email="hello@harbor.test",
    phone="+1 310 555 0140",
    address="2200 Harbor Boulevard, San Pedro, CA 90731",
    invoice_prefix="HVAC-",
    sms_sender="+13105550140",
    tax=("CA sales tax", Decimal("950")),
    items=(("AC diagnostic visit", 12900, 3000), ("Filter change", 4500, 1200)),
    # Harbor's office prefers to call a customer who paid twice before refunding, and approves portal
    # sign-ups with addresses not on file itself.
    policies=(("duplicate_payments", "hold"), ("unknown_signup_policy", "queue")),
    staff=(("Sam Rivera", "sam@harbor.test", "demo-pass-harbor", "owner"),),
    customers=(
        DemoCustomer("Emily Nguyen", None, "1450 West 7th Street, San Pedro, CA 90732",
                     (("emily.nguyen@example.test", True),), (("+13105550111", "mobile", True),)),
        DemoCustomer("Daniel Kim", "Kim Dental Group", "600 South Gaffey Street, San Pedro, CA 90731",
                     (("office@kimdental.test", True), ("daniel@kimdental.test", True)),
                     (("+13105550122", "office", True), ("+14245550123", "mobile", False)),
                     notes="Server room needs 24/7 cooling; after-hours rate applies."),
        DemoCustomer("Sofia Martinez", None, "88 Palos Verdes Street, San Pedro, CA 90731",
                     (("sofia.martinez@example.test", True), ("sofia.m@work.test", False)),
                     (("+14245550133", "mobile", True),)),
        DemoCustomer("Michael Brown", "Harborview Apartments",
                     "1200 South Pacific Avenue, San Pedro, CA 90731",
                     (("mbrown@harborview.test", True),),
                     (("+13105550144", "office", True), ("+13105550145", "mobile", False))),
        DemoCustomer("Grace Lee", None, "37 Channel Street, San Pedro, CA 90731",
                     (("grace.lee@example.test", False), ("gracel@home.test", True)), ()),
        DemoCustomer("Omar Haddad", "Haddad Market", "910 North Gaffey Street, San Pedro, CA 90731",
                     (("omar@haddadmarket.test", True),), (("+13105550166", "shop", True),)),
        DemoCustomer("Hannah Fischer", None, "25 Bluff Place, San Pedro, CA 90731",
                     (("hannah.fischer@example.test", True),), (("+14245550177", "mobile", False),)),
        DemoCustomer("Carlos Ruiz", None, "402 West 13th Street, San Pedro, CA 90731",
                     (("carlos.ruiz@example.test", False),), (("+13105550188", "mobile", True),)),
    ),
    invoices=(
        DemoInvoice(0, "one_off", "open", 2, (("AC diagnostic visit", "1", 12900, 3000),
                                              ("Capacitor replacement", "1", 18500, 2500)),
                    memo="Parts carry a one-year warranty."),
        DemoInvoice(1, "service_agreement", "open", 12,
                    (("Server room cooling maintenance, monthly", "1", 35000, 9000),)),
        DemoInvoice(2, "recurring_rental", "paid", 31,
                    (("Portable AC unit rental, monthly", "1", 14900, None),)),
        DemoInvoice(3, "subscription", "open", 8, (("Comfort club membership, 24 units", "24", 1500, None),)),
        DemoInvoice(5, "one_off", "draft", 0, (("Walk-in cooler compressor", "1", 265000, 180000),
                                               ("Labour, hours", "6.5", 14500, 6000)),
                    internal_notes="Waiting for the part number from the supplier."),
        DemoInvoice(4, "one_off", "void", 18, (("Duct cleaning", "1", 39900, None),),
                    internal_notes="Customer cancelled before the visit."),
        DemoInvoice(6, "subscription", "paid", 33, (("Comfort club membership, monthly", "1", 2900, None),)),
        DemoInvoice(1, "recurring_rental", "draft", 0, (("Backup cooling unit rental, monthly", "1", 22000,
                                                         None),)),
        DemoInvoice(3, "service_agreement", "void", 45, (("Rooftop unit filter service", "24", 3500, None),)),
    ),
    jobs=(
        DemoJob(0, "AC not cooling", "Replaced the run capacitor; system cooling again.", "done",
                -2, 14, 2, 5500),
        DemoJob(0, "Thermostat replacement", "Swap the old thermostat for a smart one.", "scheduled", 0, 0, 1,
                3500, starts_in_hours=4),
        DemoJob(1, "Monthly server room check", "Inspect both split units, clean filters.", "scheduled",
                4, 8, 2, 9000),
        DemoJob(7, "Furnace makes a rattling noise", "Customer says it started last week.", "requested",
                3, 10, 2, request=("morning", "Dog in the back yard is friendly.")),
        DemoJob(3, "Rooftop unit inspection", "Quarterly inspection of four rooftop units.", "scheduled",
                9, 9, 5, 30000, request=("any time", "Roof access key at the leasing office.")),
    ),
    agreements=(
        DemoAgreement(1, "Server room cooling agreement", 90, 12,
                      ("Monthly preventive maintenance of two split units.", "Four-hour emergency response.",
                       "Price: $350.00 per month.")),
        DemoAgreement(3, "Comfort club, building plan", 150, 12,
                      ("Two tune-ups a year for 24 apartments.", "15% off repairs.")),
    ),
    reservations=(
        DemoReservation(2, "Portable AC unit rental (summer)", -20, 90, 44700, 14900),
        DemoReservation(5, "Temporary refrigeration trailer", 14, 7, 120000, 40000),
    ),
    timeline=(
        (0, "pay_link", "invoice.viewed", "Viewed invoice from an emailed link"),
        (1, "console", "note", "Asked for a quote on a backup cooling unit"),
        (7, "portal", "appointment.requested", "Requested an appointment: furnace noise"),
        (3, "help", "ticket.submitted", "Asked how to add a unit to the building plan"),
    ),
    applicant=("Olivia Park", "olivia.park@example.test", "+1 310 555 0199",
               "New tenant at Harborview Apartments, unit 4B; the lease is in my name since last month."),
)

DEMO_BUSINESSES = (ACME, HARBOR)


# -- the report printed at the end ------------------------------------------------------------------------


@dataclass
class BusinessReport:
    name: str
    base_url: str
    created: bool
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (who, email, password)
    pay_links: list[tuple[str, str]] = field(default_factory=list)  # (invoice number, URL)
    help_site: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class SeedReport:
    businesses: list[BusinessReport] = field(default_factory=list)

    def render(self) -> str:
        out = []
        for b in self.businesses:
            out.append(f"{b.name}: {b.base_url}/  ({'seeded' if b.created else 'already seeded, kept'})")
            out.append(f"  staff console: {b.base_url}/console/")
            out.extend(f"  {who} login: {email} / {password}" for who, email, password in b.logins)
            out.extend(f"  pay link for {number}: {url}" for number, url in b.pay_links)
            if b.help_site:
                out.append(f"  help site (a host name of its own; the portal's Get Help signs you in): "
                           f"{b.help_site}")
            out.extend(f"  note: {note}" for note in b.notes)
        return "\n".join(out)


# -- seeding -----------------------------------------------------------------------------------------------


def seed_demo(*, reset: bool = False, stripe_test_server: str | None = None,
              webhook_catcher: str | None = None, twilio_test_server: str | None = None,
              help_site_host: str | None = None) -> SeedReport:
    """Create the demo businesses that do not exist yet (all of them again with ``reset``); commits.

    With ``stripe_test_server`` (the local Stripe test server's address), each business's webhook endpoint
    is registered there, so payments made on its hosted page reach the app as signed events. Where the
    example loyalty plugin is installed it is switched on; with ``webhook_catcher`` (the demo mailbox's
    ``/webhooks`` address) each business's loyalty webhook points there, so the points its customers earn
    are posted in the background and can be read on that page. With ``help_site_host`` each business's help
    site is served on that host name (its address follows the installation's port on every run), so the
    browser keeps its sign-in apart from the portal's.
    """
    report = SeedReport()
    host = current_app.extensions["suprata"].plugins
    stripe_loaded = "payments_stripe" in host.plugin_names()
    # The customer login is seeded either way; it is only worth printing where a portal can use it.
    portal_has_pages = "portal" in host.blueprint_owner.values()
    for demo in DEMO_BUSINESSES:
        business = db.session.scalar(select(Business).where(Business.slug == demo.slug))
        if business is not None and reset:
            delete_business(business.id)
            business = None
        created = business is None
        if created:
            business = create_demo_business(demo)
        with business_context(business.id):
            entry = BusinessReport(demo.name, business_base_url(business), created)
            entry.logins.extend((f"staff ({role})", email, password)
                                for _, email, password, role in demo.staff)
            if portal_has_pages:
                entry.logins.append(("portal", demo.customers[0].emails[0][0], PORTAL_PASSWORD))
                entry.notes.append(portal_note(demo))
            if created:
                entry.notes.extend(fill_demo_business(demo, webhook_catcher,
                                                      stripe_test_server if stripe_loaded else None))
            entry.pay_links.extend(showcase_pay_links())
            if help_site_host and "helpdesk" in host.plugin_names():
                entry.help_site = place_help_site(entry.base_url, help_site_host) + "/help/"
            db.session.commit()
            if stripe_test_server and stripe_loaded:
                entry.notes.append(register_stripe_webhook(stripe_test_server))
            if twilio_test_server and "sms_twilio" in host.plugin_names():
                entry.notes.append(register_twilio_number(twilio_test_server, demo.sms_sender))
        business_cache().forget(business.id)
        report.businesses.append(entry)
    return report


def place_help_site(base_url: str, host_name: str) -> str:
    """Serve the current business's help site at ``base_url`` with its host name replaced; its address."""
    parts = urllib.parse.urlsplit(base_url)
    netloc = host_name + (f":{parts.port}" if parts.port else "")
    address = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    errors = save_settings("helpdesk", {"site_address": address}, only={"site_address"})
    if errors:
        raise ValueError(f"help site address {address}: {errors['site_address']}")
    return address


def create_demo_business(demo: DemoBusiness) -> Business:
    theme = demo.theme if (THEMES_DIR / demo.theme / "templates").is_dir() else "default"
    return create_business(
        demo.slug, name=demo.name, theme=theme, brand_color=demo.brand_color,
        accent_color=demo.accent_color, timezone=demo.timezone, currency="USD", email=demo.email,
        phone=demo.phone, address=demo.address, billing_email=demo.email, reply_to=demo.email,
        mail_from=f"{demo.name} <{demo.email}>", invoice_prefix=demo.invoice_prefix,
        policies=dict(demo.policies),
    )


def portal_note(demo: DemoBusiness) -> str:
    """Where to try the portal: its login, and what signing up with an unknown address does here."""
    queues = dict(demo.policies).get("unknown_signup_policy") == "queue"
    unknown = ("waits in the console's Portal sign-ups queue" if queues
               else "is turned away (the business rejects unknown addresses)")
    note = (f"portal: log in at {public_url_for('account.login')}; sign up there with another customer's "
            f"address on file (e.g. {demo.customers[1].emails[0][0]}), or an unknown one, which {unknown}")
    if demo.applicant:
        note += f"; {demo.applicant[0]} ({demo.applicant[1]}) is waiting for approval"
    return note


def fill_demo_business(demo: DemoBusiness, webhook_catcher: str | None = None,
                       stripe_test_server: str | None = None) -> list[str]:
    """Everything inside one (new, current) business; returns notes for the report. With the Stripe test
    server, the business's card holders paid a first invoice by card there and saved the card."""
    notes = enable_plugins(demo, webhook_catcher)
    db.session.commit()
    business_cache().forget()
    for name, email, password, role in demo.staff:
        add_staff_member(email=email, name=name, password_hash=hash_password(password), role=role)
    key = generate_key()  # before any email is queued, so every demo email is signed
    notes.append(f"emails from {key.domain} are DKIM-signed (selector {key.selector}; its DNS record is on "
                 "the console's Email authentication page)")
    customers = [add_customer(c) for c in demo.customers]
    db.session.flush()
    first = customers[0]
    db.session.add(CustomerUser(customer_id=first.id, email=first.primary_email,
                                password_hash=hash_password(PORTAL_PASSWORD), email_confirmed_at=utcnow()))
    tax_rate = TaxRate(name=demo.tax[0], rate_bp=demo.tax[1], is_default=True)
    db.session.add(tax_rate)
    db.session.flush()
    db.session.add_all(SavedItem(name=name, unit_price=price, unit_cost=cost, tax_rate_id=tax_rate.id)
                       for name, price, cost in demo.items)
    for spec in demo.invoices:
        add_invoice(demo, customers[spec.customer], spec, tax_rate)
    zone = zoneinfo.ZoneInfo(demo.timezone)
    for spec in demo.jobs:
        add_job(customers[spec.customer], spec, zone)
    for spec in demo.agreements:
        add_agreement(demo, customers[spec.customer], spec)
    for spec in demo.reservations:
        add_reservation(customers[spec.customer], spec)
    for index, surface, kind, summary in demo.timeline:
        record(customers[index].id, surface=surface, kind=kind, summary=summary)
    if demo.applicant and "portal" in current_app.extensions["suprata"].plugins.plugin_names():
        add_applicant(*demo.applicant)
    if stripe_test_server:
        for index, behaves_as in demo.card_holders:
            try:
                with db.session.begin_nested():
                    pay_first_invoice_by_card(demo, customers[index], stripe_test_server, behaves_as,
                                              tax_rate)
            except (stripe.StripeError, OSError) as exc:
                notes.append(f"{customers[index].name} has no saved card: the Stripe test server did not "
                             f"answer ({exc})")
    if "helpdesk" in current_app.extensions["suprata"].plugins.plugin_names():
        db.session.flush()
        notes.append(add_help_site(demo, customers))
    return notes


# Help site articles every demo business publishes: (category, title, Markdown).
HELP_ARTICLES = (
    ("Billing and payments", "How to pay an invoice online",
     "Every invoice we email has a **Pay** link. Click it, check the invoice and press **Pay Now**: you "
     "enter your card on a secure payment page, and the receipt arrives by email.\n\n"
     "- No login is needed for one invoice.\n- To see all your invoices, log in to your account.\n"),
    ("Billing and payments", "Saving a card and autopay",
     "When you pay, you can choose to **save the card**. We never see the card number: it is kept by our "
     "payment processor.\n\nWith a saved card you can turn on *autopay* for service agreements and "
     "rentals, so those invoices pay themselves.\n"),
    ("Your account", "Signing up for your account",
     "Use the email address we send your invoices to. We email you a link to confirm it, then you "
     "choose a password.\n\nDidn't get the email? Check your spam folder, then "
     "[send us a request](../tickets/new)."),
    ("Heating and hot water", "My water heater makes a knocking noise",
     "Knocking (\"kettling\") usually means sediment at the bottom of the tank.\n\n"
     "1. Turn the heater off at the breaker or gas valve.\n2. Attach a hose to the drain valve.\n"
     "3. Drain a few gallons until the water runs clear.\n\nStill knocking? Send us a request and we'll "
     "book a visit."),
    ("Heating and hot water", "Resetting your thermostat",
     "Hold the **Mode** button for five seconds until the display flashes, then set the time and your "
     "schedule again.\n\n| Setting | Suggested |\n|---|---|\n| Home | 68°F |\n| Away | 60°F |\n"),
    ("Heating and hot water", "Bleeding a radiator",
     "A radiator that is cold at the top has air in it. Open the bleed valve with a radiator key a quarter "
     "turn, wait for water, close it."),
)


def add_help_site(demo: DemoBusiness, customers: list[Customer]) -> str:
    """The knowledge base, and a few tickets: one answered (with an internal note), one waiting for the
    team, and one from the public form whose confirmation email is waiting in the mailbox."""
    from plugins.helpdesk import articles, tickets  # only once the help desk is known to be installed
    from plugins.helpdesk.models import HelpCategory

    categories = {}
    for position, (category, title, body) in enumerate(HELP_ARTICLES):
        if category not in categories:
            categories[category] = articles.save_category(None, name=category, description=None,
                                                          position=position)
        articles.save_article(None, title=title, body_markdown=body, category_id=categories[category].id,
                              status="published")
    articles.save_article(None, title="Winter maintenance checklist (draft)", status="draft",
                          body_markdown="To write before the cold season.",
                          category_id=db.session.scalar(select(HelpCategory.id).limit(1)))
    staff = db.session.scalar(select(StaffUser).where(StaffUser.email == demo.staff[-1][1]))
    answered = tickets.submit_signed_in(customers[0], subject="Invoice paid twice?", files=[],
                                        body="I think my card was charged twice for the last visit.")
    tickets.add_note(answered, staff, body="Checked the payments: one charge; the card shows a pending hold.")
    tickets.staff_reply(answered, staff, status="pending",
                        body="We see a single payment; the second line on your statement is a hold that "
                             "disappears within a few days. Does that match what you see?")
    tickets.submit_signed_in(customers[2], subject="Water heater knocking", files=[],
                             body="The water heater knocks every night around 2 am.")
    tickets.submit_public(name="Robin Park", email="robin.park@example.test", files=[],
                          subject="Do you install heat pumps?",
                          body="Looking for a quote for a heat pump in a 3-bedroom house.")
    return ("help site: a public request from robin.park@example.test "
            "waits for the link in the mailbox; the queue is under Tickets in the console")


def add_applicant(name: str, email: str, phone: str, note: str) -> None:
    """Someone who confirmed an address the business does not know and waits for staff to approve them."""
    from plugins.portal.models import PortalApplication  # only once the portal is known to be installed

    db.session.add(PortalApplication(email=email, name=name, phone=phone, note=note,
                                     created_at=utcnow() - timedelta(hours=3)))


def enable_plugins(demo: DemoBusiness, webhook_catcher: str | None = None) -> list[str]:
    """Switch on the bundled plugins that loaded, with demo Stripe test keys, and the example loyalty
    plugin if it is installed, posting to the webhook catcher if there is one."""
    host = current_app.extensions["suprata"].plugins
    loaded = set(host.plugin_names())
    notes = []
    for name in BUNDLED_PLUGINS:
        if name in loaded:
            set_enabled(name, True)
        else:
            notes.append(f"plugin {name} is not installed or did not load; left out")
    settings = {"payments_stripe": DEMO_STRIPE_SETTINGS,
                "sms_twilio": {**DEMO_TWILIO_SETTINGS, "sender": demo.sms_sender}}
    if LOYALTY_PLUGIN in loaded:
        set_enabled(LOYALTY_PLUGIN, True)
        if webhook_catcher:
            url = f"{webhook_catcher.rstrip('/')}/{demo.slug}-loyalty"
            settings[LOYALTY_PLUGIN] = {"points_per_unit": 1, "webhook_url": url,
                                        "webhook_secret": f"demo-{demo.slug}-loyalty"}
            notes.append(f"loyalty points are posted in the background to {url}")
    for name, values in settings.items():
        errors = save_settings(name, values) if name in loaded else {}
        if errors:
            notes.append(f"{name} settings not saved: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    return notes


def add_customer(spec: DemoCustomer) -> Customer:
    verified_at = utcnow() - timedelta(days=30)
    customer = Customer(name=spec.name, company=spec.company, address=spec.address, internal_notes=spec.notes)
    customer.emails = [
        CustomerEmail(email=address, is_primary=i == 0, verified_at=verified_at if verified else None)
        for i, (address, verified) in enumerate(spec.emails)
    ]
    customer.phones = [
        CustomerPhone(number=number, label=label, verified_at=verified_at if verified else None)
        for number, label, verified in spec.phones
    ]
    db.session.add(customer)
    return customer


def add_invoice(demo: DemoBusiness, customer: Customer, spec: DemoInvoice, tax_rate: TaxRate) -> Invoice:
    issue_date = date.today() - timedelta(days=spec.issued_days_ago)
    invoice = Invoice(
        customer=customer, number=next_invoice_number(demo.invoice_prefix),
        kind=spec.kind, currency="USD", memo=spec.memo, internal_notes=spec.internal_notes,
        issue_date=issue_date, due_date=issue_date + timedelta(days=30),
    )
    invoice.lines = [
        InvoiceLine(position=i, description=description, quantity=Decimal(quantity), unit_price=price,
                    unit_cost=cost, tax_rate_id=tax_rate.id, tax_name=tax_rate.name,
                    tax_rate_bp=tax_rate.rate_bp)
        for i, (description, quantity, price, cost) in enumerate(spec.lines)
    ]
    invoice.recompute_totals()
    db.session.add(invoice)
    db.session.flush()
    if spec.status == "draft":
        return invoice
    token = send_invoice(invoice)
    if spec.status == "paid":
        record_check_payment(invoice, invoice.amount_due)
    elif spec.status == "part_paid":
        record_check_payment(invoice, invoice.amount_due // 2)
    elif spec.status == "void":
        void_invoice(invoice, reason="demo data")
    elif spec.issued_days_ago >= 3:
        add_earlier_view(invoice, token, days_ago=spec.issued_days_ago - 1)
    return invoice


def pay_first_invoice_by_card(demo: DemoBusiness, customer: Customer, server: str, behaves_as: str,
                              tax_rate: TaxRate) -> None:
    """The customer paid a first invoice with a Visa at the Stripe test server, ticking "save this card": a
    manual payment through the processor, so staff may switch autopay on. From then on the saved card answers
    as the test card ``behaves_as`` (one that declines, for the demo of a failed automatic charge)."""
    invoice = add_invoice(demo, customer, DemoInvoice(0, "one_off", "open", 45,
                                                      (("First visit and inspection", "1", 9500, None),)),
                          tax_rate)
    api = stripe.StripeClient(DEMO_STRIPE_SETTINGS["test_secret_key"], base_addresses={"api": server},
                              max_network_retries=0)
    stripe_customer = api.v1.customers.create(params={"name": customer.name, "email": customer.primary_email})
    card = api.v1.payment_methods.create(params={"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": date.today().year + 3, "cvc": "123"}})
    api.v1.payment_methods.attach(card.id, params={"customer": stripe_customer.id})
    consent = Consent(at=utcnow(), text=save_card_wording(demo.name), ip="203.0.113.20", user_agent="demo")
    payment = Payment(invoice_id=invoice.id, customer_id=customer.id, processor="stripe",
                      amount=invoice.amount_due, currency=invoice.currency, source="pay_link",
                      details={"consent": consent.as_dict()})
    db.session.add(payment)
    db.session.flush()
    intent = api.v1.payment_intents.create(params={
        "amount": payment.amount, "currency": payment.currency.lower(), "customer": stripe_customer.id,
        "payment_method": card.id, "confirm": True, "off_session": True,
        "metadata": {"suprata_business_id": str(payment.business_id), "suprata_invoice_id": str(invoice.id),
                     "suprata_payment_id": str(payment.id)}})
    record_payment_captured("stripe", intent.id, amount=intent.amount, currency=intent.currency,
                            payment_id=payment.id, live=False,
                            saved_method=CardDetails(card.id, "visa", "4242", card.card.exp_month,
                                                     card.card.exp_year))
    if behaves_as != "4242424242424242":
        data = urllib.parse.urlencode({"behaves_as": behaves_as}).encode()
        request = urllib.request.Request(f"{server}/_config/payment_methods/{card.id}", data=data,  # noqa: S310
                                         method="POST")
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - the demo's own test server


def record_check_payment(invoice: Invoice, amount: int) -> None:
    """Staff took a cheque: recorded as staff record one in the console, so the receipt says so."""
    record_offline_payment(invoice, method="cheque", amount=amount, received_on=invoice.issue_date,
                           reference=f"{1000 + invoice.id}", note="Mailed to the office")


def add_earlier_view(invoice: Invoice, token: str, *, days_ago: int) -> None:
    """So the pay-link page has a "you last viewed this invoice" line to show."""
    link, _ = find_pay_link(token)
    viewed_at = utcnow() - timedelta(days=days_ago)
    db.session.add(InvoiceView(invoice_id=invoice.id, pay_link_id=link.id, ip="203.0.113.7",
                               user_agent="Mozilla/5.0 (iPhone)", viewed_at=viewed_at))


def add_job(customer: Customer, spec: DemoJob, zone: zoneinfo.ZoneInfo) -> None:
    day = date.today() + timedelta(days=spec.starts_in_days)
    start = datetime(day.year, day.month, day.day, spec.start_hour, tzinfo=zone).astimezone(UTC)
    if spec.starts_in_hours is not None:
        start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=spec.starts_in_hours)
        day = start.astimezone(zone).date()
    job = Job(customer_id=customer.id, title=spec.title, description=spec.description, status=spec.status,
              scheduled_start=None if spec.status == "requested" else start,
              scheduled_end=None if spec.status == "requested" else start + timedelta(hours=spec.hours),
              cost=spec.cost)
    db.session.add(job)
    db.session.flush()
    if spec.request is not None:
        window, notes = spec.request
        db.session.add(AppointmentRequest(
            customer_id=customer.id, job_id=job.id, service=spec.title, preferred_date=day,
            preferred_window=window, notes=notes,
            status="requested" if spec.status == "requested" else "scheduled",
        ))


def add_agreement(demo: DemoBusiness, customer: Customer, spec: DemoAgreement) -> None:
    signed_at = utcnow() - timedelta(days=spec.signed_days_ago)
    starts_on = signed_at.date()
    ends_on = starts_on + timedelta(days=round(spec.months * 30.44))
    document = minimal_pdf([
        demo.name, spec.title, "", f"Customer: {customer.name}",
        f"Term: {starts_on.isoformat()} to {ends_on.isoformat()}", "", *spec.terms, "",
        f"Signed electronically by {customer.name} on {signed_at:%Y-%m-%d}.",
    ])
    db.session.add(Agreement(
        customer_id=customer.id, title=spec.title, status="active", signed_at=signed_at, starts_on=starts_on,
        ends_on=ends_on, document_name=spec.title.lower().replace(" ", "-").replace(",", "") + ".pdf",
        document_mime="application/pdf", document=document,
    ))


def add_reservation(customer: Customer, spec: DemoReservation) -> None:
    starts_on = date.today() + timedelta(days=spec.starts_in_days)
    db.session.add(Reservation(customer_id=customer.id, title=spec.title, starts_on=starts_on,
                               ends_on=starts_on + timedelta(days=spec.days), currency="USD",
                               total=spec.total, amount_paid=spec.paid))


def demo_webhook_id(url: str) -> str:
    """The registration id for a webhook URL: registering the same URL again replaces it."""
    return "wh_demo_" + hashlib.sha256(url.encode()).hexdigest()[:16]


def register_stripe_webhook(server: str) -> str:
    """Have the Stripe test server send every event to the current business's webhook; returns a note."""
    url = public_url_for("payments_stripe_public.webhook")
    webhook_id = demo_webhook_id(url)
    fields = urllib.parse.urlencode({"url": url, "secret": DEMO_STRIPE_SETTINGS["webhook_secret"]}).encode()
    if not server.startswith(("http://", "https://")):
        return f"{server} is not an http:// address; no Stripe webhook registered"
    # The scheme is checked above; the address is the operator's own test server.
    request = urllib.request.Request(f"{server.rstrip('/')}/_config/webhooks/{webhook_id}", data=fields)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass
    except OSError as exc:
        return f"Stripe test server {server} did not take the webhook for {url}: {exc}"
    return f"Stripe test events go to {url}"


def register_twilio_number(server: str, number: str) -> str:
    """Have the Twilio test server pass texts to the business's number on to its inbound webhook; a note."""
    url = public_url_for("sms_twilio_public.inbound")
    if not server.startswith(("http://", "https://")):
        return f"{server} is not an http:// address; no Twilio number registered"
    fields = urllib.parse.urlencode({"number": number, "url": url}).encode()
    request = urllib.request.Request(f"{server.rstrip('/')}/_config/numbers", data=fields)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the operator's own test server
            pass
    except OSError as exc:
        return f"Twilio test server {server} did not take the number {number}: {exc}"
    return f"texts to {number} (STOP, START, HELP) go to {url}"


def showcase_pay_links() -> list[tuple[str, str]]:
    """Fresh pay links for the newest open invoices of the current business: (number, URL)."""
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.status == "open").order_by(Invoice.id).limit(SHOWCASE_PAY_LINKS)
    ).all()
    return [(i.number, public_url_for("paylink.show", token=issue_pay_link(i))) for i in invoices]


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica: small, valid, and made without a PDF library."""

    def pdf_string(line: str) -> str:
        return "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"

    shown = " ".join(f"{pdf_string(line)} Tj T*" for line in lines)
    content = f"BT /F1 12 Tf 16 TL 72 740 Td {shown} ET"
    stream = content.encode("latin-1", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
