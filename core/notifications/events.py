"""Who is told about each event, and how: the business's choices, the customer's, and the fan-out.

An event (an invoice sent, a payment that failed, an appointment coming up) can tell two audiences: the
customer and the business's own inbox. Each event declares, per audience, the channels it can use and the
template each channel sends. The business chooses the audiences and channels per event in its console
(:class:`~core.models.NotificationSetting`); a customer may narrow the channels offered to them
(:class:`~core.models.CustomerChannelChoice`). Records (invoices, receipts, ticket confirmations) always go
to the customer by email: that channel is ``required`` and no choice removes it. Text messages carry only
time-sensitive prompts, and only to a verified number whose owner has not opted out.

:func:`notify_event` is what senders call, in the transaction of the event: it queues one outbox message
per audience and channel that applies (see :mod:`core.notifications.outbox`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from core.extensions import db
from core.models import Customer, CustomerChannelChoice, NotificationSetting, OutboxMessage
from core.notifications.channels import channel_for
from core.notifications.outbox import enqueue
from core.tenancy.state import current_business

CHANNEL_TITLES = {"email": "Email", "sms": "Text message"}
AUDIENCES = ("customer", "business")


class NotificationSettingError(ValueError):
    """A choice the event does not allow; the message is for the user."""


@dataclass(frozen=True)
class Audience:
    """How an event reaches one audience: ``templates`` maps each channel it can use to its template key."""

    templates: dict[str, str]
    default: tuple[str, ...] = ()  # the channels on until the business chooses
    required: tuple[str, ...] = ()  # channels that cannot be turned off (records go by email)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.templates)


@dataclass(frozen=True)
class EventOption:
    """A number the business sets for an event, such as how long before an appointment to remind."""

    name: str
    label: str
    default: int
    minimum: int
    maximum: int


@dataclass(frozen=True)
class NotificationEvent:
    key: str
    title: str
    description: str
    customer: Audience | None = None
    business: Audience | None = None
    # The business address told: "billing_email" (falling back to "email") or "email".
    inbox: str = "email"
    option: EventOption | None = None

    def audience(self, name: str) -> Audience | None:
        return self.customer if name == "customer" else self.business


@dataclass(frozen=True)
class EventChoice:
    """What the current business chose for one event (its defaults when it chose nothing)."""

    event: NotificationEvent
    customer_channels: tuple[str, ...]
    business_channels: tuple[str, ...]
    options: dict = field(default_factory=dict)

    def channels(self, audience: str) -> tuple[str, ...]:
        return self.customer_channels if audience == "customer" else self.business_channels

    @property
    def option_value(self) -> int | None:
        option = self.event.option
        return None if option is None else int(self.options.get(option.name, option.default))


_events: dict[str, NotificationEvent] = {}


def register_event(event: NotificationEvent) -> None:
    """Declare an event (registering a key again replaces it); listed in the order registered."""
    _events[event.key] = event


def get_event(key: str) -> NotificationEvent:
    try:
        return _events[key]
    except KeyError:
        raise LookupError(f"no notification event is registered as {key!r}") from None


def all_events() -> list[NotificationEvent]:
    return list(_events.values())


def channel_available(channel: str) -> bool:
    """True when the current business has a channel that delivers ``channel`` (SMS needs its plugin on)."""
    return channel_for(channel) is not None


# -- the business's choices ---------------------------------------------------------------------------------


def event_choices() -> dict[str, EventChoice]:
    """Every event's choices for the current business, by key."""
    stored = {row.event: row for row in db.session.scalars(select(NotificationSetting))}
    return {event.key: _choice(event, stored.get(event.key)) for event in all_events()}


def event_choice(key: str) -> EventChoice:
    event = get_event(key)
    row = db.session.scalar(select(NotificationSetting).where(NotificationSetting.event == key))
    return _choice(event, row)


def _choice(event: NotificationEvent, row: NotificationSetting | None) -> EventChoice:
    def channels(audience: Audience | None, stored: list | None) -> tuple[str, ...]:
        if audience is None:
            return ()
        return _narrow(audience.channels, audience.default if row is None else stored, audience.required)

    return EventChoice(event, channels(event.customer, row and row.customer_channels),
                       channels(event.business, row and row.business_channels),
                       dict(row.options) if row else {})


def _narrow(offered: tuple[str, ...], wanted, required: tuple[str, ...]) -> tuple[str, ...]:
    """The channels of ``offered`` that are ``wanted`` (all of them when that is None) or ``required``."""
    return tuple(c for c in offered if wanted is None or c in wanted or c in required)


def save_event_choice(key: str, *, customer: list[str], business: list[str], option: int | None = None
                      ) -> EventChoice:
    """Store the business's choice for event ``key`` (in the caller's transaction); required channels are
    kept whatever is asked. :class:`NotificationSettingError` for a channel or option the event lacks."""
    event = get_event(key)
    values = {}
    for audience_name, asked in (("customer", customer), ("business", business)):
        audience = event.audience(audience_name)
        allowed = audience.channels if audience else ()
        unknown = sorted(set(asked) - set(allowed))
        if unknown:
            raise NotificationSettingError(
                f"{event.title}: the {audience_name} cannot be told by {', '.join(unknown)}.")
        values[audience_name] = [c for c in allowed if c in asked or c in audience.required]
    options = {}
    if event.option is not None and option is not None:
        if not event.option.minimum <= option <= event.option.maximum:
            raise NotificationSettingError(
                f"{event.option.label}: choose a number from {event.option.minimum} to "
                f"{event.option.maximum}.")
        options[event.option.name] = option
    row = db.session.scalar(select(NotificationSetting).where(NotificationSetting.event == key))
    if row is None:
        row = NotificationSetting(event=key)
        db.session.add(row)
    row.customer_channels, row.business_channels = values["customer"], values["business"]
    row.options = options or dict(row.options or {})
    return _choice(event, row)


# -- the customer's choices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerChoice:
    """One event as a customer sees it: the channels the business offers, those chosen, those fixed."""

    event: NotificationEvent
    offered: tuple[str, ...]
    chosen: tuple[str, ...]
    required: tuple[str, ...]


def customer_choices(customer_id: int) -> list[CustomerChoice]:
    """The events the business tells customer ``customer_id`` about, with the channels they chose."""
    own = {row.event: row.channels for row in db.session.scalars(
        select(CustomerChannelChoice).where(CustomerChannelChoice.customer_id == customer_id))}
    choices = []
    for key, choice in event_choices().items():
        offered = tuple(c for c in choice.customer_channels if channel_available(c))
        if offered:
            required = choice.event.customer.required
            choices.append(CustomerChoice(choice.event, offered, _narrow(offered, own.get(key), required),
                                          required))
    return choices


def save_customer_choice(customer_id: int, key: str, channels: list[str]) -> None:
    """Store the channels customer ``customer_id`` wants for event ``key`` (in the caller's transaction).

    Channels the business does not offer are ignored; required ones are kept.
    """
    choice = event_choice(key)
    if not choice.customer_channels:
        raise NotificationSettingError(f"{choice.event.title} is not sent to customers.")
    required = choice.event.customer.required
    kept = [c for c in choice.customer_channels if c in channels or c in required]
    row = db.session.scalar(select(CustomerChannelChoice).where(
        CustomerChannelChoice.customer_id == customer_id, CustomerChannelChoice.event == key))
    if row is None:
        row = CustomerChannelChoice(customer_id=customer_id, event=key)
        db.session.add(row)
    row.channels = kept


# -- the fan-out --------------------------------------------------------------------------------------------


def text_number(customer: Customer) -> str | None:
    """The number texts to ``customer`` go to: their first verified phone that has not opted out."""
    for phone in customer.phones:
        if phone.verified_at is not None and phone.sms_opted_out_at is None:
            return phone.number
    return None


def notify_event(key: str, *, customer: Customer | None = None, email: str | None = None, context: dict,
                 audiences: tuple[str, ...] = AUDIENCES, channels: tuple[str, ...] | None = None
                 ) -> list[OutboxMessage]:
    """Queue event ``key``'s messages in the caller's transaction, as the business and customer chose.

    ``context`` holds the variables of every template of the event (JSON values). ``audiences`` limits who
    may be told (a reply by staff tells the customer, one by the customer tells the business), ``channels``
    how (no text about a charge the customer was on the phone for). ``email`` is the address the customer's
    email goes to instead of their primary one (a conversation is answered where it came from); with no
    ``customer`` record, the customer is told at that address by email alone, if the business chose email
    for them. Returns the queued messages; an audience or channel with nowhere to send (no email on file, no
    verified number, the SMS plugin off) is skipped.
    """
    choice = event_choice(key)
    queued = []
    if "customer" in audiences and (customer is not None or email):
        customer_id = customer.id if customer is not None else None
        for channel in _customer_channels(choice, customer_id):
            if channels is not None and channel not in channels:
                continue
            if channel == "email":
                to = email or customer.primary_email
            else:
                to = text_number(customer) if customer is not None else None
            if to and (channel == "email" or channel_available(channel)):
                queued.append(enqueue(choice.event.customer.templates[channel], to=to, channel=channel,
                                      customer_id=customer_id, context=context))
    if "business" in audiences:
        business = current_business()
        inbox = getattr(business, choice.event.inbox) or business.email
        if inbox and "email" in choice.business_channels and (channels is None or "email" in channels):
            queued.append(enqueue(choice.event.business.templates["email"], to=inbox, context=context))
    return queued


def _customer_channels(choice: EventChoice, customer_id: int | None) -> tuple[str, ...]:
    """The channels the business chose for the customer, narrowed by the customer's own choice (an address
    with no record has none)."""
    if not choice.customer_channels or customer_id is None:
        return choice.customer_channels
    own = db.session.scalar(select(CustomerChannelChoice.channels).where(
        CustomerChannelChoice.customer_id == customer_id, CustomerChannelChoice.event == choice.event.key))
    return _narrow(choice.customer_channels, own, choice.event.customer.required)
