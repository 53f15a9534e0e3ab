"""The forms of signing in and choosing passwords, shared by the staff console and the customer account.
All are Flask-WTF forms, so each carries and checks a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from core.identity.passwords import MAX_LENGTH, password_problem

# Syntax only, no DNS look-up; reserved names such as example.test are accepted because demo data uses them.
VALID_EMAIL = Email("Enter a valid email.", test_environment=True)


class LoginForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class SetPasswordForm(FlaskForm):
    """A new password, typed twice; ``user_inputs`` (the account's email, name, business) are guessable."""

    new_password = PasswordField("New password", validators=[DataRequired()])
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The two passwords are not the same.")],
    )

    def __init__(self, *args, user_inputs: tuple[str | None, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_inputs = user_inputs

    def validate_new_password(self, field):
        problem = password_problem(field.data, self.user_inputs)
        if problem:
            raise ValidationError(problem)


class PasswordChangeForm(SetPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class ForgotPasswordForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=255)])
