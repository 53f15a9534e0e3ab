"""Hook implementations of the payments_stripe plugin."""
