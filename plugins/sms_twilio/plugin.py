"""Text messages through Twilio: verified phones, STOP/START. Not built yet: it sends nothing.

Implements no hooks so far; the SMS issue fills it in.
"""

TITLE = "Text messages (Twilio)"
