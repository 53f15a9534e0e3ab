"""Notification templates: built-in defaults, each business's own wording, and sandboxed rendering.

Every notification names a template key. Core and plugins register a default per key; a business may
rewrite its subject and its one body in its console (a :class:`~core.models.NotificationTemplate` row). The
body is Markdown with the template's variables, from which both the text and the HTML parts are made
(:mod:`.markdown`), so the two always say the same; a built-in default may bring HTML of its own. Those
rewrites are tenant content, so they render in Jinja's immutable sandbox: they can read the values they are
given, never Python internals, and change nothing. Rendering has a budget (time, output size, loop rounds
and calls, checked as it goes), so no template can keep a worker busy: a draft over budget is refused on
save and preview with what to change. When a business's version fails to render, over budget or otherwise,
the default is used instead and the error is recorded on the template (for the editor) and returned to the
caller (for the outbox row): a message is never lost to a typo.

Context values are JSON (numbers, strings, ``None``, and lists of flat objects such as an invoice's
lines); every template also gets ``business`` (name,
email, phone, address, url, logo_url, colours). Filters: ``money`` (integer minor units, in the message's
``currency`` unless given), ``date`` and ``datetime`` (ISO strings or datetimes, in the business's time zone
and written as its locale writes them, or with a strftime pattern given as the argument).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import re
import string
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes, pass_context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.visitor import NodeTransformer
from markupsafe import Markup
from sqlalchemy import select

from core.extensions import db
from core.models import NotificationTemplate
from core.money.amounts import format_money
from core.notifications import markdown
from core.notifications.channels import RenderedMessage, channel_for
from core.notifications.markdown import escape_value as markdown_escape
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import business_base_url, public_url_for
from core.web.helpers import format_date, format_datetime

log = logging.getLogger("suprata.notifications")

LAYOUT_TEMPLATE = "email/layout.html"
ACCESS_LINK_TEMPLATE = "email/access_link.html"


@dataclass(frozen=True)
class Wording:
    """What one message says: subject, body (Markdown) and, for a built-in default only, HTML of its own. A
    message that carries an account-access link has its body (and HTML) in two pieces, above the link and
    below it (``*_after``)."""

    subject: str
    text: str
    html: str | None = None
    text_after: str = ""
    html_after: str | None = None


@dataclass(frozen=True)
class AccessLink:
    """The account-access link of a message (set or reset a password, accept an invitation, confirm an email,
    sign in): the variable that holds it, and the words on its button."""

    variable: str
    label: str


@dataclass(frozen=True)
class TemplateDefault:
    """The built-in version of one message; ``sample`` feeds the editor's preview."""

    key: str
    subject: str
    text: str
    html: str | None = None
    description: str = ""
    sample: dict = field(default_factory=dict)
    access_link: AccessLink | None = None
    text_after: str = ""
    html_after: str | None = None
    # The module that registered a plugin's template (its plugin's switch governs it); None for core's.
    module: str | None = None
    # "email", or "sms" for a text message: text only, no subject or HTML, and its length counts.
    channel: str = "email"

    @property
    def wording(self) -> Wording:
        return Wording(self.subject, self.text, self.html, self.text_after, self.html_after)


class UnknownTemplate(LookupError):
    """No default is registered under this key."""


class TemplateRenderError(Exception):
    """A template could not be parsed or rendered; the message names the part and line, for staff.

    ``over_budget`` when it stopped because rendering it would cost too much (see ``MAX_*``).
    """

    def __init__(self, message: str, *, over_budget: bool = False):
        super().__init__(message)
        self.over_budget = over_budget


_defaults: dict[str, TemplateDefault] = {}


def register_default(key: str, *, subject: str, text: str, html: str | None = None, description: str = "",
                     sample: dict | None = None, access_link: str | None = None,
                     access_label: str = "Open the link", text_after: str = "",
                     html_after: str | None = None, module: str | None = None,
                     channel: str = "email") -> None:
    """Declare the built-in template for ``key`` (registering a key again replaces it).

    ``text`` is Markdown: the text part is made from it, and so is the HTML part unless ``html`` (the inside
    of the message only) is given. Either way the HTML is placed in the theme's ``email/layout.html`` with
    the business's branding. A business that rewrites the message writes one Markdown body for both parts.
    ``sample`` holds example context values for previews; variables it lacks are previewed as ``[name]``.
    ``channel="sms"`` declares a text message: only ``text`` is sent, as written (pass ``subject=""``).

    ``access_link`` names the variable that holds an account-access link (set or reset a password, accept
    an invitation, confirm an email, sign in). Such a link stays out of the business's hands: its templates
    cannot read that variable, and core places the link itself, as a button labelled ``access_label`` and
    the address on a line of its own, between ``text`` (and ``html``) above it and ``text_after`` (and
    ``html_after``) below it. A business rewrites the text around it, never the link.

    ``module`` is the module of the plugin the template belongs to (None for core's).
    """
    _defaults[key] = TemplateDefault(
        key, subject, text, html, description, dict(sample or {}),
        access_link=AccessLink(access_link, access_label) if access_link else None,
        text_after=text_after, html_after=html_after, module=module, channel=channel)


def register_template(key: str, *, subject: str, text: str, html: str | None = None, description: str = "",
                      sample: dict | None = None, access_link: str | None = None,
                      access_label: str = "Open the link", text_after: str = "",
                      html_after: str | None = None, channel: str = "email") -> None:
    """A plugin declares the default of a message it sends; businesses may rewrite it in the console.

    Arguments as for :func:`register_default`, ``access_link`` included: a message that carries an
    account-access link names its variable, and businesses then rewrite only the text around the link. The
    template belongs to the plugin whose module calls this: the console lists it only for businesses that
    have that plugin on.
    """
    # The caller's module names the plugin, as settings_of(__name__) does, without the plugin spelling it.
    register_default(key, subject=subject, text=text, html=html, description=description, sample=sample,
                     access_link=access_link, access_label=access_label, text_after=text_after,
                     html_after=html_after, module=sys._getframe(1).f_globals.get("__name__"),
                     channel=channel)


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
    if default.channel != "email" and channel_for(default.channel) is None:
        return False  # a text message, while the business has no channel that sends texts
    if default.module is None:
        return True
    owner = host.plugin_owning(default.module)
    return owner is None or host.is_enabled(owner)


def variables(key: str) -> list[str]:
    """The variables template ``key`` may use besides ``business``: its sample's and its default's, but not
    its account-access link, which only core places."""
    default = get_default(key)
    used = set(default.sample)
    for _, source, env in _parts(default.wording):
        used |= meta.find_undeclared_variables(env.parse(source))
    used.discard("business")
    if default.access_link:
        used.discard(default.access_link.variable)
    return sorted(used)


def sample_context(key: str) -> dict:
    """Example values for every variable of ``key``, for previews."""
    placeholders = {name: f"[{name}]" for name in variables(key)}
    return {**placeholders, **get_default(key).sample}


# -- the sandbox and its budget ----------------------------------------------------------------------------

# What one message may cost to render, all its parts together. A business's template runs in the web server
# (preview, save) and in the worker (delivery), where one business's costly template would make every other
# business's mail wait: over budget, it stops at once and is reported like any other error.
MAX_RENDER_SECONDS = 0.5
MAX_OUTPUT_CHARS = 100_000
MAX_STEPS = 10_000  # loop rounds, calls and filters
MAX_NUMBER_BITS = 256  # multiplying numbers beyond this would take the worker's time in one step

TOO_SLOW = "it takes too long to render (over half a second); use fewer or smaller loops"
TOO_MANY_STEPS = (f"it repeats too much (over {MAX_STEPS:,} loop rounds and calls); "
                  "use fewer or smaller loops")
TOO_LONG = (f"it would make more than {MAX_OUTPUT_CHARS:,} characters; make it shorter (look for large "
            "widths given to center, indent or format, and for loops that add text)")
TOO_LARGE_NUMBER = "it computes a number too large to show; remove the multiplication that makes it"


class OverBudget(SecurityError):
    """Rendering a template would cost more than its budget; the message says what to change."""


@dataclass
class _Budget:
    deadline: float
    steps: int = MAX_STEPS
    output: int = MAX_OUTPUT_CHARS

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise OverBudget(TOO_MANY_STEPS)
        if time.monotonic() > self.deadline:
            raise OverBudget(TOO_SLOW)

    def write(self, chunk: str) -> None:
        self.output -= len(chunk)
        if self.output < 0:
            raise OverBudget(TOO_LONG)
        if time.monotonic() > self.deadline:
            raise OverBudget(TOO_SLOW)


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("suprata_template_budget",
                                                                          default=None)


@contextmanager
def _budgeted() -> Iterator[_Budget]:
    """Everything rendered inside shares one budget (a message's subject, text and HTML)."""
    budget = _Budget(deadline=time.monotonic() + MAX_RENDER_SECONDS)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


def _step() -> None:
    budget = _budget.get()
    if budget is not None:
        budget.step()


_SIZED = str | list | tuple


def _check_size(value) -> None:
    """Refuse an intermediate text or list that alone is over the output budget."""
    if isinstance(value, _SIZED | range) and len(value) > MAX_OUTPUT_CHARS:
        raise OverBudget(TOO_LONG)


def _as_int(value) -> int:
    return value if isinstance(value, int) else 0


def _check_growth(name: str, text, arguments: dict) -> None:
    """Refuse, before it runs, a filter or text method that would make an over-budget result: building it
    would itself take the time and memory the budget protects (``'a'|center(100000000)``)."""
    for counted in ("linecount", "slices"):  # batch, slice: one list per unit asked for
        if _as_int(arguments.get(counted)) > MAX_OUTPUT_CHARS:
            raise OverBudget(TOO_LONG)
    if not isinstance(text, str):
        return
    length = len(text)
    if name in ("center", "ljust", "rjust", "zfill"):
        length = max(length, _as_int(arguments.get("width")))
    elif name == "indent":
        width = arguments.get("width", 4)
        length += (text.count("\n") + 1) * (len(width) if isinstance(width, str) else _as_int(width))
    elif name == "expandtabs":
        length += text.count("\t") * _as_int(arguments.get("tabsize", 8))
    elif name == "replace":
        old, new = str(arguments.get("old", "")), str(arguments.get("new", ""))
        length += (text.count(old) if old else length + 1) * max(len(new) - len(old), 0)
    if length > MAX_OUTPUT_CHARS:
        raise OverBudget(TOO_LONG)


_PRINTF_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_printf(pattern: str) -> None:
    """``'%100000000s' % x`` and the ``format`` filter: widths and precisions within the budget."""
    for width, precision in _PRINTF_FIELD.findall(pattern):
        for size in (width, precision):
            if size == "*" or (size and (len(size) > 6 or int(size) > MAX_OUTPUT_CHARS)):
                raise OverBudget(TOO_LONG)


def _check_braces(pattern: str) -> None:
    """``'{:>100000000}'.format(x)``: widths within the budget, none taken from the values."""
    for _, _, spec, _ in string.Formatter().parse(pattern):
        if spec and ("{" in spec or any(len(n) > 6 or int(n) > MAX_OUTPUT_CHARS
                                        for n in re.findall(r"\d+", spec))):
            raise OverBudget(TOO_LONG)


def _budgeted_filter(name: str, function):
    """``function`` as a filter that counts against the budget and refuses over-budget results."""
    # Filters marked pass_context (or environment, eval_ctx) get that first. Jinja adds the mark to some
    # filters by a wrapper whose own signature does not show the extra argument: bind without it then.
    inner = inspect.unwrap(function)
    signature = inspect.signature(inner)
    leading = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0
    unseen = leading if getattr(inner, "jinja_pass_arg", None) is None else 0

    @functools.wraps(function)
    def budgeted(*args, **kwargs):
        _step()
        if len(args) > leading:
            text = args[leading]
            if name == "format" and isinstance(text, str):
                _check_printf(text)
            _check_growth(name, text, signature.bind_partial(*args[unseen:], **kwargs).arguments)
        result = function(*args, **kwargs)
        _check_size(result)
        return result

    return budgeted


class _Metered(NodeTransformer):
    """Rewrites a parsed template so each loop round and each ``~`` join is counted against the budget."""

    def visit_For(self, node: nodes.For) -> nodes.For:  # noqa: N802 - NodeTransformer's naming
        node = self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "_budget_rounds", [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Filter:  # noqa: N802 - NodeTransformer's naming
        return nodes.Filter(self.generic_visit(node), "_budget_size", [], [], None, None, lineno=node.lineno)


def _budget_rounds(iterable):
    for item in iterable:
        _step()
        yield item


def _budget_size(value):
    _check_size(value)
    return value


class _TemplateSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, metered: loops, calls, filters and output count against a budget, and the
    operators and filters that could exhaust a worker in one step are checked before they run."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options):
        super().__init__(**options)
        self.filters = {name: _budgeted_filter(name, f) for name, f in self.filters.items()}
        self.filters.update(_budget_rounds=_budget_rounds, _budget_size=_budget_size)
        del self.globals["lipsum"]  # paragraphs of filler text, as many as asked for

    def _parse(self, source, name, filename):
        return _Metered().visit(super()._parse(source, name, filename))

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            raise SecurityError("the ** operator is not allowed in templates")
        if operator == "*":
            if isinstance(left, _SIZED) or isinstance(right, _SIZED):
                raise SecurityError("repeating text or lists with * is not allowed in templates")
            if isinstance(left, int) and isinstance(right, int) and (
                    left.bit_length() + right.bit_length() > MAX_NUMBER_BITS):
                raise OverBudget(TOO_LARGE_NUMBER)
        elif operator == "%" and isinstance(left, str):
            _check_printf(left)
        elif operator == "+" and isinstance(left, _SIZED) and isinstance(right, _SIZED):
            if len(left) + len(right) > MAX_OUTPUT_CHARS:
                raise OverBudget(TOO_LONG)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own spelling, see its call()
        _step()
        method = getattr(__obj, "__wrapped__", __obj)  # str.format comes wrapped by the sandbox
        text = getattr(method, "__self__", None)
        if isinstance(text, str):
            name = getattr(method, "__name__", "")
            if name in ("format", "format_map"):
                _check_braces(text)
            else:
                try:
                    arguments = inspect.signature(method).bind_partial(*args, **kwargs).arguments
                except (TypeError, ValueError):
                    arguments = {}
                _check_growth(name, text, arguments)
        result = super().call(__context, __obj, *args, **kwargs)
        _check_size(result)
        return result


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


def _sandbox(*, html: bool, markdown_body: bool = False) -> _TemplateSandbox:
    # trim_blocks and lstrip_blocks: a line holding only "{% if %}" leaves no blank line in the text email
    env = _TemplateSandbox(autoescape=html, undefined=StrictUndefined, keep_trailing_newline=True,
                           trim_blocks=True, lstrip_blocks=True,
                           finalize=markdown_escape if markdown_body else None)
    env.filters.update(money=_money_filter, date=_date_filter, datetime=_datetime_filter)
    return env


_text_env = _sandbox(html=False)
_html_env = _sandbox(html=True)
# The one body of a message is Markdown: the values put into it are escaped as Markdown text.
_markdown_env = _sandbox(html=False, markdown_body=True)


def _parts(wording: Wording) -> Iterator[tuple[str, str, _TemplateSandbox]]:
    """Each part that is written, with its name for error messages and the environment it renders in."""
    for part, source, env in (("Subject", wording.subject, _text_env), ("Text", wording.text, _markdown_env),
                              ("Text below the link", wording.text_after, _markdown_env),
                              ("HTML", wording.html, _html_env),
                              ("HTML below the link", wording.html_after, _html_env)):
        if source:
            yield part, source, env


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
    """One part rendered within the budget of the message being rendered (see :func:`_budgeted`)."""
    budget = _budget.get()
    try:
        pieces = []
        for piece in env.from_string(source).generate(context):
            budget.write(piece)
            pieces.append(piece)
        return "".join(pieces)
    except Exception as exc:  # tenant-written templates may fail in any way; report, never crash the caller
        raise TemplateRenderError(_describe(part, exc), over_budget=isinstance(exc, OverBudget)) from exc


def _text_around_link(above: str, link: str, label: str, below: str) -> str:
    """The business's text, then the link alone on its line between blank lines, then the rest of the text."""
    return "\n\n".join(piece for piece in (above.strip("\n"), f"{label}:\n{link}", below.strip("\n"))
                        if piece.strip()) + "\n"


def _render_as(default: TemplateDefault, wording: Wording, context: dict) -> RenderedMessage:
    """``wording`` rendered as the message ``default`` declares: a text message as written, an email from
    its Markdown body."""
    if default.channel == "sms":
        with _budgeted():
            return RenderedMessage(subject="", text=_render_part("Text", _text_env, wording.text, context))
    return _render(wording, context, default.access_link)


def _render(wording: Wording, context: dict, access: AccessLink | None = None) -> RenderedMessage:
    """The message: subject, text and, in the theme's layout, HTML. With ``access``, the link it names is
    taken out of what the business's wording may read and placed by core between its two pieces."""
    link = None
    if access is None:
        wording = replace(wording, text_after="", html_after=None)
    else:
        link = str(context.get(access.variable) or "")
        context = {name: value for name, value in context.items() if name != access.variable}
    with _budgeted():
        rendered = {part: _render_part(part, env, source, context) for part, source, env in _parts(wording)}
    subject = " ".join(rendered.get("Subject", "").split())
    # The body is Markdown: its text part and, unless the default brings HTML of its own, its HTML part.
    body, body_below = rendered.get("Text", ""), rendered.get("Text below the link", "")
    text = markdown.to_text(body)
    # Only a built-in default has HTML of its own (businesses write the one body); the sandbox autoescapes
    # its values.
    html, html_after = (Markup(rendered[part]) if part in rendered else None  # noqa: S704
                        for part in ("HTML", "HTML below the link"))
    if access is None:
        content = html or markdown.to_html(body)
    else:
        block = Markup(render_template(ACCESS_LINK_TEMPLATE, url=link, label=access.label))  # noqa: S704
        content = (html or markdown.to_html(body)) + block + (
            html_after if html_after is not None else markdown.to_html(body_below) if body_below.strip()
            else Markup(""))
        text = _text_around_link(text, link, access.label, markdown.to_text(body_below))
    rendered_html = render_template(LAYOUT_TEMPLATE, content=content, subject=subject,
                                    business=context["business"])
    return RenderedMessage(subject=subject, text=text, html=rendered_html)


# What ``business`` holds when a template is checked outside any business.
SAMPLE_BUSINESS = {"name": "Your business", "email": "office@example.com", "phone": "+1 555 0100",
                   "address": "1 Main Street", "url": "https://example.com", "logo_url": None,
                   "brand_color": "#1f6feb", "accent_color": "#0b3d91", "currency": "USD", "timezone": "UTC"}


def business_variables(info) -> dict:
    """What every template sees as ``business``."""
    return {
        "name": info.name,
        "email": info.email,
        "phone": info.phone,
        "address": info.address,
        "url": business_base_url(info),
        "logo_url": public_url_for("site.logo", v=info.logo_hash) if info.has_logo else None,
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
        try:
            return _render_as(default, _own_wording(default, custom), full_context), None
        except TemplateRenderError as exc:
            log.warning("business %s: template %s failed, using the default: %s", info.slug, key, exc)
            custom.last_error, custom.last_error_at = str(exc), utcnow()
            return _render_as(default, default.wording, full_context), str(exc)
    return _render_as(default, default.wording, full_context), None


def _own_wording(default: TemplateDefault, custom: NotificationTemplate) -> Wording:
    """A business's version: one body (and the one below the link), from which both parts are made; its
    blank subject means the default one."""
    return Wording(subject=default.subject if custom.subject is None else custom.subject,
                   text=custom.body_text, text_after=custom.body_text_after or "")


# -- the console's editor ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """A template rendered with sample values; ``error`` (part and line) instead when it fails."""

    subject: str = ""
    text: str = ""
    html: str | None = None
    error: str | None = None


def preview(key: str, wording: Wording) -> Preview:
    """Render a draft of template ``key`` with sample values for the current business, as it would be sent
    (a blank subject is the default's)."""
    default = get_default(key)
    info = current_business()
    context = {**sample_context(key), "business": business_variables(info)}
    draft = replace(wording, subject=wording.subject or default.subject)
    try:
        message = _render_as(default, draft, context)
    except TemplateRenderError as exc:
        return Preview(error=str(exc))
    return Preview(subject=message.subject, text=message.text, html=message.html)


def validate(wording: Wording, *, key: str | None = None) -> list[str]:
    """Problems that would stop a draft from rendering, as sentences for the save form; empty when fine.

    Checks the syntax of each part; with ``key``, also that only that template's variables are used (never
    its account-access link) and that it renders within the budget with sample values.
    """
    if not (wording.text or "").strip():
        return ["The text version can't be empty."]
    problems = []
    default = get_default(key) if key else None
    allowed = set(variables(key)) | {"business"} if key else None
    for part, source, env in _parts(wording):
        try:
            parsed = env.parse(source)
        except TemplateSyntaxError as exc:
            problems.append(_describe(part, exc))
            continue
        unknown = sorted(meta.find_undeclared_variables(parsed) - allowed) if allowed is not None else []
        if default and default.access_link and default.access_link.variable in unknown:
            unknown.remove(default.access_link.variable)
            problems.append(f"{part}: remove {default.access_link.variable}. The link it holds is placed by "
                            "Suprata itself, between your text above and below it, and cannot be moved.")
        if unknown:
            problems.append(f"{part}: unknown variable {', '.join(unknown)}; "
                            f"available: {', '.join(sorted(allowed))}")
    if key and not problems:
        problems += _budget_problems(key, wording)
    return problems


def _budget_problems(key: str, wording: Wording) -> list[str]:
    """A draft that goes over the rendering budget with the sample values is refused (other failures with
    sample values are left to the preview: real values may differ)."""
    info = current_business()
    context = {**sample_context(key), "business": business_variables(info) if info else SAMPLE_BUSINESS}
    try:
        with _budgeted():
            for part, source, env in _parts(wording):
                _render_part(part, env, source, context)
    except TemplateRenderError as exc:
        if exc.over_budget:
            return [f"{exc}."]
    return []
