"""Money: amounts in minor units (:mod:`.amounts`), invoices and their pay links (:mod:`.invoicing`), and
payments (:mod:`.payments`)."""
