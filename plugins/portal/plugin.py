"""Customer portal: invoices, jobs, agreements, reservations and saved cards. Not built yet: it has no pages.

Implements no hooks so far; the portal issue fills it in.
"""

TITLE = "Customer portal"
