"""The portal's forms (Flask-WTF: each carries and checks a CSRF token)."""

from __future__ import annotations

from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core.plugin_api import TIME_WINDOWS, VALID_EMAIL


class SignupForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=255), VALID_EMAIL],
                       description="Use the address we send your invoices to.")


class ApplicationForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=200)])
    phone = StringField("Phone (optional)", validators=[Optional(), Length(max=40)])
    note = TextAreaField("Anything that helps us find you (optional)",
                         validators=[Optional(), Length(max=2000)],
                         description="For example the address we work at, or an invoice number.")


class PreferenceEntry(Form):
    day = DateField("Date", validators=[Optional()])
    window = SelectField("Time of day", choices=dict(TIME_WINDOWS), default="any time")

    def validate_day(self, field):
        if field.data is not None and field.data < date.today():
            raise ValidationError("Choose a date from today on.")


class AppointmentForm(FlaskForm):
    service = StringField("What do you need?", validators=[DataRequired(), Length(max=200)],
                          description="For example: leaking shower valve, yearly boiler service.")
    preferences = FieldList(FormField(PreferenceEntry), min_entries=3, max_entries=3)
    notes = TextAreaField("Notes for our team (optional)", validators=[Optional(), Length(max=2000)],
                          description="Access, parking, pets: anything that helps the visit.")

    def chosen(self) -> list[tuple[date, str]]:
        """The preferences filled in, best first."""
        return [(entry.day.data, entry.window.data) for entry in self.preferences if entry.day.data]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not self.chosen():
            self.preferences[0].day.errors.append("Choose at least one date.")
            return False
        return valid

    def default_first_date(self) -> None:
        self.preferences[0].day.data = date.today() + timedelta(days=2)


class AnswerForm(FlaskForm):
    """Staff answer an appointment request: confirm a time, propose another, or decline."""

    outcome = SelectField("Answer", choices={"scheduled": "Confirm this time",
                                             "proposed": "Propose this time instead",
                                             "declined": "Decline the request"})
    day = DateField("Date", validators=[Optional()])
    start = TimeField("Start", validators=[Optional()])
    hours = IntegerField("Hours", default=2, validators=[InputRequired(), NumberRange(min=1, max=24)])
    reply = TextAreaField("Message to the customer (optional)", validators=[Optional(), Length(max=2000)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.outcome.data != "declined" and (self.day.data is None or self.start.data is None):
            self.day.errors.append("Choose the date and start time.")
            return False
        return valid


class ApproveForm(FlaskForm):
    customer = SelectField("Link to", coerce=str, validators=[DataRequired()])


class DeclineForm(FlaskForm):
    pass
