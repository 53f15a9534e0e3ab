"""What customers and staff read about payments: consent wording, card labels, declines in words."""

from __future__ import annotations

from core.models import Payment, SavedPaymentMethod

# A decline in words the customer understands (the processor's code stays on the payment for staff).
DECLINE_REASONS = {
    "insufficient_funds": "the card has insufficient funds",
    "expired_card": "the card has expired",
    "authentication_required": "your bank wants you to confirm the payment yourself",
    "incorrect_cvc": "the card's security code was not accepted",
    "lost_card": "the card was reported lost",
    "stolen_card": "the card was reported stolen",
}
DEFAULT_DECLINE_REASON = "the card was declined"

# Why money received could not be applied to its invoice, as the end of "A payment of $10.00 ..." + number.
PROBLEMS = {
    "currency_mismatch": "was in a different currency than the invoice",
    "amount_mismatch": "was not the amount we asked for",
    "invoice_void": "arrived for a cancelled invoice",
    "invoice_already_paid": "arrived for an invoice that was already paid",
}


def save_card_wording(business_name: str) -> str:
    """The exact consent wording shown next to the "save this card" box (and recorded with the consent)."""
    return (f"Save this card for future payments. I allow {business_name} to charge this card for my "
            "future invoices. I can remove the card at any time.")


def decline_in_words(code: str) -> str:
    return DECLINE_REASONS.get(code, DEFAULT_DECLINE_REASON)


def card_label(method: SavedPaymentMethod) -> str:
    """"Visa ending 4242"."""
    return f"{(method.brand or 'Card').title()} ending {method.last4 or '????'}"


# How money reached the business outside the payment processor (core.money.payments.offline).
OFFLINE_METHODS = {"cash": "Cash", "cheque": "Cheque", "bank_transfer": "Bank transfer", "other": "Other"}
_REFERENCE_WORDS = {"cheque": "no.", "bank_transfer": "ref.", "other": "ref."}


def paid_with(payment: Payment) -> str:
    """How a payment was made, for receipts and payment tables: "Visa ending 4242", "Cheque no. 1042",
    "Cash"; "Card" when the processor did not say which."""
    if payment.method in OFFLINE_METHODS:
        label = OFFLINE_METHODS[payment.method]
        if payment.reference and payment.method in _REFERENCE_WORDS:
            label += f" {_REFERENCE_WORDS[payment.method]} {payment.reference}"
        return label
    brand = payment.card_brand or (payment.saved_method.brand if payment.saved_method else None)
    last4 = payment.card_last4 or (payment.saved_method.last4 if payment.saved_method else None)
    return f"{(brand or 'Card').title()} ending {last4}" if last4 else "Card"


def surface_of(payment: Payment) -> str:
    """Where the customer's timeline says the payment happened."""
    return {"pay_link": "pay_link", "portal": "portal"}.get(payment.source, "console")


def actor_of(payment: Payment) -> str | None:
    """Who the audit trail names; None lets it name the staff member of the current request (or "system")."""
    return {"pay_link": "customer via pay link", "portal": "customer via portal", "autopay": "autopay"}.get(
        payment.source)
