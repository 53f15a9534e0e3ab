"""Payments, in rooms: what a processor is (:mod:`.processor`), the values and errors they exchange
(:mod:`.types`), what customers and staff see in words (:mod:`.wording`), the actions that start, charge and
refund (:mod:`.commands`), the one checkout every surface opens (:mod:`.checkout`), the ledger that applies
what a processor reports exactly once (:mod:`.ledger`), saved cards (:mod:`.saved_methods`) and the emails
that follow money events (:mod:`.emails`).

Views and processors never change an invoice's or a payment's money columns themselves: processors report
what their processor says (a verified webhook, or a server-side re-fetch) through the ledger's ``record_*``
functions, which lock the invoice row first, then the payment, and re-read both under the lock.
"""
