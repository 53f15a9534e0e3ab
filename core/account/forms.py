"""The customer account's own forms (signing in and choosing passwords are shared with staff:
``core.identity.forms``)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from core.identity.forms import VALID_EMAIL
from core.identity.passwords import MAX_LENGTH


class ChangeEmailForm(FlaskForm):
    new_email = EmailField("New email address", validators=[DataRequired(), Length(max=255), VALID_EMAIL])
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
