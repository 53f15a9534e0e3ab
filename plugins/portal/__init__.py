"""The customer portal: self-registration, invitations, staff approval of unknown sign-ups, and the tabs
where customers see their invoices, jobs, reservations, agreements and activity."""
