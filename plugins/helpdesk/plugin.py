"""Hook implementations of the helpdesk plugin."""
