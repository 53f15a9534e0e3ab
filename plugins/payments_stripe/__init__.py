"""payments_stripe plugin."""
