"""The help site's forms (Flask-WTF: each carries and checks a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core.plugin_api import VALID_EMAIL
from plugins.helpdesk.attachments import ACCEPTED, MAX_BYTES, MAX_FILES, size_words
from plugins.helpdesk.models import ARTICLE_STATUSES, TICKET_STATUSES

FILES_HINT = f"Optional: up to {MAX_FILES} files of {size_words(MAX_BYTES)} at most: {ACCEPTED}."


class SignedInTicketForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])
    message = TextAreaField("How can we help?", validators=[DataRequired(), Length(max=10000)])
    attachments = MultipleFileField("Attach files", description=FILES_HINT)


class PublicTicketForm(SignedInTicketForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email address", validators=[DataRequired(), Length(max=255), VALID_EMAIL],
                       description="We email you a link to confirm it: your request reaches us once you "
                                   "click it.")
    # Hidden from people (and from screen readers); a form that comes back with it filled was sent by a bot.
    website = StringField("Leave this field empty", validators=[Optional()])


class ReplyForm(FlaskForm):
    message = TextAreaField("Your reply", validators=[DataRequired(), Length(max=10000)])
    attachments = MultipleFileField("Attach files", description=FILES_HINT)


class StaffReplyForm(FlaskForm):
    message = TextAreaField("Reply to the customer", validators=[DataRequired(), Length(max=10000)],
                            description="Emailed to the customer and shown to them.")
    status = SelectField("Then set the status to", choices=TICKET_STATUSES, default="pending")


class NoteForm(FlaskForm):
    note = TextAreaField("Internal note", validators=[DataRequired(), Length(max=10000)],
                         description="Only staff see notes; the customer never does.")


class AssignForm(FlaskForm):
    assignee = SelectField("Assigned to", coerce=str)


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=TICKET_STATUSES)


class CategoryForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    description = StringField("Description (optional)", validators=[Optional(), Length(max=500)])
    position = IntegerField("Order", default=0, validators=[InputRequired(), NumberRange(min=0, max=999)],
                            description="Lower numbers come first on the help site.")


class ArticleForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    category = SelectField("Category", coerce=str)
    body = TextAreaField("Article (Markdown)", validators=[DataRequired(), Length(max=100000)],
                         description="Markdown: # headings, **bold**, *italic*, - lists, [links](https://…), "
                                     "tables. HTML is shown as text.")
    status = SelectField("Status", choices=ARTICLE_STATUSES, default="draft",
                         description="Only published articles are on the help site and in its search.")


class ButtonForm(FlaskForm):
    """A form that is only a button (and its CSRF token)."""
