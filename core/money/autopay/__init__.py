"""Autopay: invoices of the kinds a business chooses, charged to the customer's chosen card when issued.

A customer is switched on only with their recorded consent (ticked in the portal, or given by phone to a staff
member) and only after they paid once through the processor themselves (:mod:`.enrolment`). Issuing an
invoice of an autopay kind plans its first charge (:mod:`.rules`); the worker charges it off-session, once
however often it is asked, and follows a decline with the business's retry ladder (:mod:`.runner`).
"""
