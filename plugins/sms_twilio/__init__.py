"""sms_twilio plugin."""
