"""The console's forms. All are Flask-WTF forms, so every one carries and checks a CSRF token."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    ColorField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from core.extensions import db
from core.identity.forms import VALID_EMAIL
from core.identity.roles import DEFAULT_ROLE, ROLES
from core.models import INVOICE_KINDS, CustomerEmail, CustomerPhone
from core.money.totals import ROUNDING
from core.phones import PhoneNumberError, normalise_phone
from core.tenancy.locales import locale_choices
from core.web.contrast import readability_problem
from core.web.themes import available_themes

# -- staff ------------------------------------------------------------------------------------------------

ROLE_CHOICES = {role.name: f"{role.label}: {role.summary}" for role in ROLES.values()}


class StaffInviteForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=255), VALID_EMAIL])
    role = SelectField("Role", choices=ROLE_CHOICES, default=DEFAULT_ROLE)


# -- customers ----------------------------------------------------------------------------------------------

class EmailEntry(Form):
    email = EmailField("Email", validators=[Optional(), Length(max=255), VALID_EMAIL])
    primary = BooleanField("Primary")
    verified = BooleanField("Verified")


class PhoneEntry(Form):
    number = StringField("Phone", validators=[Optional(), Length(max=40)])
    label = StringField("Label", validators=[Optional(), Length(max=32)])
    verified = BooleanField("Verified")

    def validate_number(self, field):
        try:
            field.data = normalise_phone(field.data)
        except PhoneNumberError as exc:
            raise ValidationError(str(exc)) from None


class CustomerForm(FlaskForm):
    """A customer record; each email and phone number belongs to one customer of the business only."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    company = StringField("Company", validators=[Optional(), Length(max=200)])
    address = TextAreaField("Address", validators=[Optional(), Length(max=500)])
    internal_notes = TextAreaField("Internal notes (staff only)", validators=[Optional(), Length(max=20000)])
    emails = FieldList(FormField(EmailEntry), min_entries=1, max_entries=20)
    phones = FieldList(FormField(PhoneEntry), min_entries=1, max_entries=20)

    def __init__(self, *args, customer_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id = customer_id

    def filled_emails(self) -> list[EmailEntry]:
        return [entry.form for entry in self.emails if (entry.form.email.data or "").strip()]

    def filled_phones(self) -> list[PhoneEntry]:
        return [entry.form for entry in self.phones if (entry.form.number.data or "").strip()]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self._check_contacts() and valid

    def _check_contacts(self) -> bool:
        """Duplicates within the form and addresses already on file for another customer."""
        ok = True
        emails = self.filled_emails()
        for entry in emails:
            entry.email.data = entry.email.data.strip().lower()
        for entry, problem in self._conflicts(emails, "email", CustomerEmail, CustomerEmail.email):
            entry.email.errors.append(problem)
            ok = False
        phones = [entry for entry in self.filled_phones() if not entry.number.errors]
        for entry, problem in self._conflicts(phones, "number", CustomerPhone, CustomerPhone.number):
            entry.number.errors.append(problem)
            ok = False
        if sum(1 for entry in emails if entry.primary.data) > 1:
            self.form_errors.append("Mark only one email as primary.")
            ok = False
        return ok

    def _conflicts(self, entries, field_name: str, model, column):
        seen = set()
        for entry in entries:
            value = entry[field_name].data
            if value in seen:
                yield entry, "This is listed twice."
            seen.add(value)
            owner = db.session.scalar(select(model).where(column == value))
            if owner is not None and owner.customer_id != self.customer_id:
                yield entry, f"Already on file for {owner.customer.name}."


# -- settings -----------------------------------------------------------------------------------------------

LOGO_MAX_BYTES = 1024 * 1024
# Recognised by content, never by file name. SVG is refused: it can carry script.
_LOGO_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
_HEX_COLOUR = Regexp(r"^#[0-9a-fA-F]{6}$", message="Use a colour like #1f6feb.")


def sniff_image(data: bytes) -> str | None:
    """The MIME type of a PNG, JPEG or WebP image judged by its first bytes, or None."""
    for signature, mime in _LOGO_SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class SignInAppForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)],
                       description="What staff call it, e.g. “Zendesk help desk”.")
    redirect_uris = TextAreaField(
        "Redirect addresses, one a line", validators=[DataRequired(), Length(max=5000)],
        description="Exactly as the application sends them; nothing else is accepted.")
    post_logout_redirect_uris = TextAreaField(
        "After-logout addresses, one a line (optional)", validators=[Length(max=5000)])
    backchannel_logout_uri = StringField(
        "Back-channel logout address (optional)", validators=[Length(max=500)],
        description="We post a logout token here when a customer logs out.")


class HostsForm(FlaskForm):
    hosts = TextAreaField(
        "Host names, one a line",
        validators=[Length(max=6000)],
        description="The first is the one in every link the business sends out (invoices, password links). "
                    "Point each name's DNS at this installation first.",
    )


class SettingsForm(FlaskForm):
    name = StringField("Business name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Contact email", validators=[Optional(), Length(max=255), VALID_EMAIL])
    phone = StringField("Contact phone", validators=[Optional(), Length(max=64)])
    address = TextAreaField("Address", validators=[Optional(), Length(max=500)])
    billing_email = EmailField(
        "Billing inbox (told about failed payments)", validators=[Optional(), Length(max=255), VALID_EMAIL]
    )
    mail_from_name = StringField("Emails come from (name)", validators=[Optional(), Length(max=100)])
    mail_from_address = EmailField(
        "Emails come from (address)", validators=[Optional(), Length(max=150), VALID_EMAIL]
    )
    reply_to = EmailField("Replies go to", validators=[Optional(), Length(max=255), VALID_EMAIL])
    timezone = StringField(
        "Time zone",
        validators=[DataRequired(), Length(max=64)],
        description="For example America/New_York or Europe/London.",
    )
    currency = StringField(
        "Currency",
        validators=[
            DataRequired(),
            Regexp(r"^[A-Za-z]{3}$", message="Use the three-letter ISO 4217 code, like USD."),
        ],
    )
    locale = SelectField(
        "Language and country for money and dates",
        description="How amounts and dates are written on every page and email.",
    )
    brand_color = ColorField("Brand colour", validators=[DataRequired(), _HEX_COLOUR])
    accent_color = ColorField("Accent colour", validators=[DataRequired(), _HEX_COLOUR])
    theme = SelectField("Theme")
    invoice_prefix = StringField(
        "Invoice number prefix",
        validators=[
            DataRequired(),
            Length(max=16),
            Regexp(r"^[A-Za-z0-9_\-/]+$", message="Use letters, digits, -, _ or /"),
        ],
    )
    logo = FileField("Logo (PNG, JPEG or WebP, up to 1 MB)")
    remove_logo = BooleanField("Remove the current logo")
    invite_after_payment = BooleanField("After a pay-link payment, invite the customer to the portal")
    self_registration = BooleanField("Customers may register for the portal themselves")
    unknown_signup_policy = SelectField(
        "Registration with an email we don't have on file",
        choices={"reject": "Reject it", "queue": "Queue it for staff approval"},
    )
    login_to_pay = BooleanField(
        "Customers log in to the portal before paying an emailed invoice",
        description="Off: anyone with the invoice's link can pay it. On: the link still shows the invoice, "
                    "and Pay Now asks the customer to log in (or sign up with an email address on file) "
                    "first.",
    )
    verify_public_tickets = BooleanField("Public help requests must confirm their email first")
    tax_rounding = SelectField("Rounding of tax on new invoices", choices=dict(ROUNDING), default="invoice",
                               description="Most tax authorities expect tax worked out on the invoice as a "
                                           "whole. Invoices already made keep the rule they were made with.")
    duplicate_payments = SelectField(
        "Money paid twice for one invoice (or for a cancelled one)",
        choices={"refund": "Refund it to the customer automatically", "hold": "Hold it for us to refund"},
        description="Either way the billing inbox is told and the audit trail records it.",
    )

    autopay_kinds = SelectMultipleField(
        "Invoice kinds charged automatically",
        choices=dict(INVOICE_KINDS),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description="For customers who switched autopay on; every other invoice goes to the customer to pay.",
    )
    autopay_retry_days = StringField(
        "Try a declined automatic charge again after (days)",
        description="Days after the first decline, separated by commas, like 1, 3, 7. Lost, stolen and "
                    "expired cards are never retried. Leave blank for no retries.",
    )
    card_expiry_notice_days = IntegerField(
        "Tell customers their autopay card expires (days ahead)",
        validators=[Optional(), NumberRange(min=0, max=120)],
    )
    reminder_days = StringField(
        "Remind customers of unpaid invoices (days from the due date)",
        description="Negative days are before the due date, like -3, 1, 7, 14. Declined automatic charges "
                    "get the same reminders. Leave blank for none.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.theme.choices = {name: name.title() for name in available_themes()}
        self.locale.choices = list(locale_choices())
        self.logo_bytes: bytes | None = None
        self.logo_mime: str | None = None

    def validate_timezone(self, field):
        field.data = field.data.strip()
        if field.data not in available_timezones():
            raise ValidationError("Choose a time zone from the IANA list, like America/New_York.")

    def validate_currency(self, field):
        field.data = field.data.upper()

    def validate_brand_color(self, field):
        problem = not field.errors and readability_problem(field.data, "White text (the header and buttons)")
        if problem:
            raise ValidationError(problem)

    def validate_accent_color(self, field):
        problem = not field.errors and readability_problem(field.data, "Links and white text")
        if problem:
            raise ValidationError(problem)
    def validate_autopay_retry_days(self, field):
        field.days = _day_list(field.data, 1, 60)

    def validate_reminder_days(self, field):
        field.days = _day_list(field.data, -60, 365)

    def validate_logo(self, field):
        if field.data is None:
            return
        data = field.data.read(LOGO_MAX_BYTES + 1)
        if len(data) > LOGO_MAX_BYTES:
            raise ValidationError("The logo must be 1 MB or smaller.")
        mime = sniff_image(data)
        if mime is None:
            raise ValidationError("Upload a PNG, JPEG or WebP image.")
        self.logo_bytes, self.logo_mime = data, mime


def _day_list(text: str | None, lowest: int, highest: int) -> list[int]:
    """"1, 3, 7" -> [1, 3, 7]; a clear message for anything else."""
    days = []
    for part in (text or "").replace(";", ",").split(","):
        if not part.strip():
            continue
        try:
            day = int(part.strip())
        except ValueError:
            raise ValidationError(f"Write whole numbers of days separated by commas, like 1, 3, 7 "
                                  f"(not {part.strip()!r}).") from None
        if not lowest <= day <= highest:
            raise ValidationError(f"Each number of days must be between {lowest} and {highest}.")
        days.append(day)
    return sorted(set(days))


class TemplateForm(FlaskForm):
    """A message's wording: its subject and one body, from which both its text and its HTML are made."""

    subject = StringField("Subject", validators=[Optional(), Length(max=500)])
    text = TextAreaField("Message", validators=[DataRequired(), Length(max=50000)])
    text_after = TextAreaField("Message below the link", validators=[Optional(), Length(max=50000)])
    preview = SubmitField("Preview")
    save = SubmitField("Save")


# -- plugin settings ----------------------------------------------------------------------------------------


def plugin_settings_form(plugin_name: str, declared: list, values: dict, formdata=None) -> FlaskForm:
    """A form built from a plugin's declared settings; secrets are never filled in, only said to be set."""

    class PluginSettingsForm(FlaskForm):
        pass

    for setting in declared:
        label = setting.label + (" *" if setting.required else "")
        if setting.kind == "secret":
            state = "set" if values.get(setting.name) else "not set"
            field = PasswordField(label, description=f"Currently {state}; blank keeps it. {setting.help}")
        elif setting.kind == "bool":
            field = BooleanField(label, description=setting.help)
        elif setting.kind == "choice":
            field = SelectField(label, choices=dict(setting.choices), description=setting.help)
        else:
            field = StringField(label, description=setting.help)
        setattr(PluginSettingsForm, setting_field_name(setting.name), field)
    data = {setting_field_name(s.name): values.get(s.name) for s in declared if s.kind != "secret"}
    return PluginSettingsForm(formdata=formdata, data=data, prefix=plugin_name)


def setting_field_name(setting_name: str) -> str:
    # Prefixed so a setting called "data" or "meta" cannot shadow a form attribute.
    return f"setting_{setting_name}"
