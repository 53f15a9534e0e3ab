"""Hook implementations of the portal plugin."""
