"""Notification templates: built-in defaults, each business's own wording, and sandboxed rendering.

Every notification names a template key. Core and plugins register a default per key; a business may
rewrite subject, text and HTML in its console (a :class:`~core.models.NotificationTemplate` row). Those
rewrites are tenant content, so they render in Jinja's immutable sandbox: they can read the values they are
given, never Python internals, and change nothing. When a business's version fails to render, the default
is used instead and the error is recorded on the template (for the editor) and returned to the caller (for
the outbox row): a message is never lost to a typo.

Context values are flat JSON (numbers, strings, ``None``); every template also gets ``business`` (name,
email, phone, address, url, logo_url, colours). Filters: ``money`` (integer minor units, in the message's
``currency`` unless given), ``date`` and ``datetime`` (ISO strings or datetimes, in the business's time zone
and written as its locale writes them, or with a strftime pattern given as the argument).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, pass_context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup, escape
from sqlalchemy import select

from core.extensions import db
from core.models import NotificationTemplate
from core.money.amounts import format_money
from core.notifications.channels import RenderedMessage
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import business_base_url, public_url_for
from core.web.helpers import format_date, format_datetime

log = logging.getLogger("suprata.notifications")

LAYOUT_TEMPLATE = "email/layout.html"


@dataclass(frozen=True)
class TemplateDefault:
    """The built-in version of one message; ``sample`` feeds the editor's preview."""

    key: str
    subject: str
    text: str
    html: str | None = None
    description: str = ""
    sample: dict = field(default_factory=dict)
    # The module that registered a plugin's template (its plugin's switch governs it); None for core's.
    module: str | None = None


class UnknownTemplate(LookupError):
    """No default is registered under this key."""


class TemplateRenderError(Exception):
    """A template could not be parsed or rendered; the message names the part and line, for staff."""


_defaults: dict[str, TemplateDefault] = {}


def register_default(key: str, *, subject: str, text: str, html: str | None = None, description: str = "",
                     sample: dict | None = None) -> None:
    """Declare the built-in template for ``key`` (registering a key again replaces it).

    ``html`` is the inside of the message only: it is placed in the theme's ``email/layout.html`` with the
    business's branding. Without it the HTML part is made from the text. ``sample`` holds example context
    values for previews; variables it lacks are previewed as ``[name]``.
    """
    _defaults[key] = TemplateDefault(key, subject, text, html, description, dict(sample or {}))


def register_template(key: str, *, subject: str, text: str, html: str | None = None, description: str = "",
                      sample: dict | None = None) -> None:
    """A plugin declares the default of a message it sends; businesses may rewrite it in the console.

    Arguments as for :func:`register_default`. The template belongs to the plugin whose module calls this:
    the console lists it only for businesses that have that plugin on.
    """
    # The caller's module names the plugin, as settings_of(__name__) does, without the plugin spelling it.
    module = sys._getframe(1).f_globals.get("__name__")
    _defaults[key] = TemplateDefault(key, subject, text, html, description, dict(sample or {}), module)


def get_default(key: str) -> TemplateDefault:
    try:
        return _defaults[key]
    except KeyError:
        raise UnknownTemplate(f"no notification template is registered as {key!r}") from None


def all_defaults() -> list[TemplateDefault]:
    """Every registered template, by key, whichever plugin registered it."""
    return [_defaults[key] for key in sorted(_defaults)]


def defaults_for_business() -> list[TemplateDefault]:
    """The templates the current business can edit: core's, and those of the plugins it has on."""
    host = current_app.extensions["suprata"].plugins
    return [default for default in all_defaults() if _offered(default, host)]


def offered_to_business(key: str) -> bool:
    """True when the current business can edit template ``key`` (see :func:`defaults_for_business`)."""
    default = _defaults.get(key)
    return default is not None and _offered(default, current_app.extensions["suprata"].plugins)


def _offered(default: TemplateDefault, host) -> bool:
    if default.module is None:
        return True
    owner = host.plugin_owning(default.module)
    return owner is None or host.is_enabled(owner)


def variables(key: str) -> list[str]:
    """The variables template ``key`` may use besides ``business``: its sample's and its default's."""
    default = get_default(key)
    used = set(default.sample)
    for source, env in _parts(default.subject, default.text, default.html):
        used |= meta.find_undeclared_variables(env.parse(source))
    used.discard("business")
    return sorted(used)


def sample_context(key: str) -> dict:
    """Example values for every variable of ``key``, for previews."""
    placeholders = {name: f"[{name}]" for name in variables(key)}
    return {**placeholders, **get_default(key).sample}


# -- the sandbox -------------------------------------------------------------------------------------------


class _TemplateSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, also refusing the operators that let one template exhaust a worker."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            raise SecurityError("the ** operator is not allowed in templates")
        if isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            raise SecurityError("repeating text or lists with * is not allowed in templates")
        return super().call_binop(context, operator, left, right)


def _business_zone(context) -> ZoneInfo:
    try:
        return ZoneInfo(context["business"]["timezone"])
    except (KeyError, TypeError, ValueError):
        return ZoneInfo("UTC")


def _as_date_or_datetime(value):
    if isinstance(value, str):
        try:
            has_time = "T" in value or " " in value
            return datetime.fromisoformat(value) if has_time else date.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, date) else None


@pass_context
def _money_filter(context, amount, currency: str | None = None) -> str:
    if not isinstance(amount, int):
        return "" if amount is None else str(amount)  # previews show placeholders as they are
    currency = currency or context.get("currency") or context["business"]["currency"]
    return format_money(amount, currency)


def _as_aware(parsed):
    # Our timestamps are UTC; one written without its offset is read as such.
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed


@pass_context
def _date_filter(context, value, fmt: str | None = None) -> str:
    """A date as the business's locale writes it; ``fmt``, a strftime pattern, for a pattern of its own."""
    parsed = _as_aware(_as_date_or_datetime(value))
    if parsed is None:
        return "" if value is None else str(value)
    if fmt is None:
        return format_date(parsed)
    if isinstance(parsed, datetime):
        parsed = parsed.astimezone(_business_zone(context))
    return parsed.strftime(fmt)


@pass_context
def _datetime_filter(context, value, fmt: str | None = None) -> str:
    """A moment as the business's locale writes it, in its time zone; ``fmt`` as for ``date``."""
    parsed = _as_aware(_as_date_or_datetime(value))
    if fmt is None and isinstance(parsed, datetime):
        return format_datetime(parsed)
    return _date_filter(context, value, fmt)


def _sandbox(*, html: bool) -> _TemplateSandbox:
    # trim_blocks and lstrip_blocks: a line holding only "{% if %}" leaves no blank line in the text email
    env = _TemplateSandbox(autoescape=html, undefined=StrictUndefined, keep_trailing_newline=True,
                           trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=_money_filter, date=_date_filter, datetime=_datetime_filter)
    return env


_text_env = _sandbox(html=False)
_html_env = _sandbox(html=True)


def _parts(subject: str | None, text: str | None, html: str | None) -> Iterator[tuple[str, _TemplateSandbox]]:
    for source, env in ((subject, _text_env), (text, _text_env), (html, _html_env)):
        if source:
            yield source, env


# -- rendering ---------------------------------------------------------------------------------------------


def _template_line(exc: BaseException) -> int | None:
    """The template line an exception was raised on (Jinja rewrites tracebacks to template lines)."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(part: str, exc: Exception) -> str:
    line = exc.lineno if isinstance(exc, TemplateSyntaxError) else _template_line(exc)
    where = f"{part}, line {line}" if line else part
    message = exc.message if isinstance(exc, TemplateError) else f"{type(exc).__name__}: {exc}"
    return f"{where}: {message}"


def _render_part(part: str, env: _TemplateSandbox, source: str, context: dict) -> str:
    try:
        return env.from_string(source).render(context)
    except Exception as exc:  # tenant-written templates may fail in any way; report, never crash the caller
        raise TemplateRenderError(_describe(part, exc)) from exc


_URL = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)]")


def _linkify(line: str) -> Markup:
    pieces, end = [], 0
    for match in _URL.finditer(line):
        pieces += [escape(line[end:match.start()]), Markup('<a href="{0}">{0}</a>').format(match.group(0))]
        end = match.end()
    pieces.append(escape(line[end:]))
    return Markup("").join(pieces)


def _text_to_html(text: str) -> Markup:
    """An HTML body from the text body: escaped, paragraphs and line breaks kept, links clickable."""
    paragraphs = [
        Markup("<br>\n").join(_linkify(line) for line in chunk.split("\n"))
        for chunk in re.split(r"\n\s*\n", text.strip())
    ]
    return Markup("\n").join(Markup("<p>{}</p>").format(paragraph) for paragraph in paragraphs)


def _render(subject: str, text: str, html: str | None, context: dict) -> RenderedMessage:
    rendered_subject = " ".join(_render_part("Subject", _text_env, subject, context).split())
    rendered_text = _render_part("Text", _text_env, text, context)
    if html:
        # Output of the autoescaping sandbox: context values are escaped, the markup is the business's own.
        content = Markup(_render_part("HTML", _html_env, html, context))  # noqa: S704
    else:
        content = _text_to_html(rendered_text)
    rendered_html = render_template(LAYOUT_TEMPLATE, content=content, subject=rendered_subject,
                                    business=context["business"])
    return RenderedMessage(subject=rendered_subject, text=rendered_text, html=rendered_html)


def business_variables(info) -> dict:
    """What every template sees as ``business``."""
    return {
        "name": info.name,
        "email": info.email,
        "phone": info.phone,
        "address": info.address,
        "url": business_base_url(info),
        "logo_url": public_url_for("site.logo") if info.has_logo else None,
        "brand_color": info.brand_color,
        "accent_color": info.accent_color,
        "currency": info.currency,
        "timezone": info.timezone,
    }


def render(key: str, context: dict) -> tuple[RenderedMessage, str | None]:
    """Render message ``key`` for the current business; returns the message and the template error, if any.

    The business's own version is used when it renders. If it fails, the default is rendered instead, and
    the error is stored on the business's template (``last_error``, ``last_error_at``) in the caller's
    transaction and returned so the outbox row can show it. A failing default raises
    :class:`TemplateRenderError`; an unknown key raises :class:`UnknownTemplate`.
    """
    default = get_default(key)
    info = current_business()
    full_context = {**context, "business": business_variables(info)}
    custom = db.session.scalar(select(NotificationTemplate).where(NotificationTemplate.key == key))
    if custom is not None:
        subject = custom.subject if custom.subject is not None else default.subject
        try:
            return _render(subject, custom.body_text, custom.body_html, full_context), None
        except TemplateRenderError as exc:
            log.warning("business %s: template %s failed, using the default: %s", info.slug, key, exc)
            custom.last_error, custom.last_error_at = str(exc), utcnow()
            return _render(default.subject, default.text, default.html, full_context), str(exc)
    return _render(default.subject, default.text, default.html, full_context), None


# -- the console's editor ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """A template rendered with sample values; ``error`` (part and line) instead when it fails."""

    subject: str = ""
    text: str = ""
    html: str | None = None
    error: str | None = None


def preview(key: str, subject: str | None, text: str, html: str | None = None) -> Preview:
    """Render a draft of template ``key`` with sample values for the current business, as it would be sent."""
    default = get_default(key)
    info = current_business()
    context = {**sample_context(key), "business": business_variables(info)}
    try:
        message = _render(default.subject if subject is None else subject, text, html or None, context)
    except TemplateRenderError as exc:
        return Preview(error=str(exc))
    return Preview(subject=message.subject, text=message.text, html=message.html)


def validate(subject: str | None, text: str, html: str | None = None, *, key: str | None = None) -> list[str]:
    """Problems that would stop a draft from rendering, as sentences for the save form; empty when fine.

    Checks the syntax of each part; with ``key``, also that only that template's variables are used.
    """
    if not (text or "").strip():
        return ["The text version can't be empty."]
    problems = []
    allowed = set(variables(key)) | {"business"} if key else None
    parts = (("Subject", subject, _text_env), ("Text", text, _text_env), ("HTML", html, _html_env))
    for part, source, env in parts:
        if not source:
            continue
        try:
            parsed = env.parse(source)
        except TemplateSyntaxError as exc:
            problems.append(_describe(part, exc))
            continue
        unknown = sorted(meta.find_undeclared_variables(parsed) - allowed) if allowed is not None else []
        if unknown:
            problems.append(f"{part}: unknown variable {', '.join(unknown)}; "
                            f"available: {', '.join(sorted(allowed))}")
    return problems
