"""The plugin platform: hook specifications (:mod:`.hookspecs`), the host that loads plugins and calls their
hooks per business (:mod:`.host`), blueprints with a login realm (:mod:`.blueprints`), what hooks return
(:mod:`.contributions`), per-business settings (:mod:`.settings`) and hook calls after commit
(:mod:`.events`). Plugin authors use :mod:`core.plugin_api`, which re-exports what is promised to them.
"""

#: The version of the public plugin API. A plugin declares the version it was built for as ``API_VERSION``
#: in its module; one built for another major version is not loaded (it is listed as broken, with why).
#: 2.1 added ``background_task`` and ``UTCDateTime``; 2.2 added ``PaymentProcessor.expire_checkout``
#: (required), ``CheckoutRedirect.expires_at`` and the account-access link arguments of ``register_template``.
#: 2.3 added staff roles: ``requires_permission`` and ``staff_blueprint(..., permission=...)``.
#: 2.4 added the ``plugin_settings_problems`` hook, ``record_webhook_received`` and
#: ``record_processor_status`` (payments that cannot stop silently), the ``card`` a payment was made with to
#: ``record_payment_captured``, and payments staff record outside the processor in ``on_payment_captured``.
API_VERSION = "2.4"
