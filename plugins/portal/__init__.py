"""portal plugin."""
