"""Hook implementations of the sms_twilio plugin."""
