"""helpdesk plugin."""
