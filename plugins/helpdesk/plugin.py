"""Help site: knowledge base and tickets, signed in with the portal's login. Not built yet: it has no pages.

Implements no hooks so far; the helpdesk issue fills it in.
"""

TITLE = "Help desk"
