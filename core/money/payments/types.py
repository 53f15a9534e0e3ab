"""The values and errors that payments, processors and views exchange."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Payments that moved money to us; only these can be refunded.
CAPTURED_STATUSES = ("succeeded", "unapplied")


class PaymentError(ValueError):
    """A payment action is not possible; the message is shown to the customer or staff member."""


class ProcessorError(RuntimeError):
    """The payment processor refused or could not be reached; the message is shown to staff."""


@dataclass(frozen=True)
class Consent:
    """A customer's explicit yes to keeping their card: when, the exact wording shown, from where, and, for a
    yes given out loud during a payment by phone, the staff member who asked."""

    at: datetime
    text: str
    ip: str | None
    user_agent: str | None
    staff_user_id: int | None = None

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat(), "text": self.text, "ip": self.ip, "user_agent": self.user_agent,
                "staff_user_id": self.staff_user_id}

    @classmethod
    def from_dict(cls, data: dict) -> Consent:
        return cls(at=datetime.fromisoformat(data["at"]), text=data["text"], ip=data.get("ip"),
                   user_agent=data.get("user_agent"), staff_user_id=data.get("staff_user_id"))


@dataclass(frozen=True)
class CardDetails:
    """What a processor tells us about a card it kept: its reference and what staff may see."""

    ref: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None


@dataclass
class CheckoutRedirect:
    """Where to send the customer to pay, the processor's id for that attempt, and when the processor stops
    taking payment on that page (None: the processor does not say)."""

    url: str
    checkout_ref: str
    expires_at: datetime | None = None
