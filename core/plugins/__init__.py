"""The plugin platform: hook specifications (:mod:`.hookspecs`), the host that loads plugins and calls their
hooks per business (:mod:`.host`), blueprints with a login realm (:mod:`.blueprints`), what hooks return
(:mod:`.contributions`), per-business settings (:mod:`.settings`) and hook calls after commit
(:mod:`.events`). Plugin authors use :mod:`core.plugin_api`, which re-exports what is promised to them.
"""

#: The version of the public plugin API. A plugin declares the version it was built for as ``API_VERSION``
#: in its module; one built for another major version is not loaded (it is listed as broken, with why).
#: 2.1 added ``background_task`` and ``UTCDateTime``; 2.2 added ``PaymentProcessor.expire_checkout``
#: (required), ``CheckoutRedirect.expires_at`` and the account-access link arguments of ``register_template``.
#: 2.3 added staff roles: ``requires_permission`` and ``staff_blueprint(..., permission=...)``;
#: 2.4 autopay for a customer page (``switch_autopay_on``, ``switch_autopay_off``,
#: ``autopay_consent_wording``, ``why_autopay_not_allowed``, ``AutopayError``),
#: ``PaymentProcessor.update_card_endpoint``, ``Consent.staff_user_id`` and ``record_payment_captured``'s
#: ``live``; 2.5 ``render_customer_record``, ``notify_event``, the customer's channel choices and phone
#: numbers, and text-message templates; 2.6 ``observe_webhook_lag``; 2.7 the customer login, tokens,
#: checkout and documents that customer pages need (see the guide's "API versions"); 2.8 the
#: ``plugin_settings_problems`` hook, ``record_webhook_received`` and ``record_processor_status`` (payments
#: that cannot stop silently), the ``card`` a payment was made with to ``record_payment_captured``, and
#: payments staff record outside the processor in ``on_payment_captured``; 2.9 ``emit_after_commit`` (a hook
#: called once the caller's transaction commits) and ``StaffUser``; 2.10 single sign-on for a plugin that is a
#: client of the business's OpenID Connect provider: ``sso_client``, ``sso_issuer``,
#: ``report_sso_clock_offset`` and ``SSO_LOGOUT_EVENT``; 2.11 ``notify_event(..., email=...)`` (the
#: customer's email to the address a conversation came from, or to an address with no record).
API_VERSION = "2.11"
