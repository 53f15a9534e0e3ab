"""Stripe payments for Suprata: hosted Checkout, signed webhooks, saved cards with consent, refunds."""
