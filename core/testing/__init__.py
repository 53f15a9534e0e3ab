"""Test support that core ships for its own suite, for plugin authors' suites, and for the offline demo.

Add ``pytest_plugins = ["core.testing.fixtures"]`` to a ``conftest.py`` to get the fixtures (``app``,
``client``, ``db``, ``make_business``, ``pay_invoice``, ``http_server``, ``mailbox``, ...); the helpers are in
:mod:`.helpers` (forms, signing in, the command line), :mod:`.records` (customers, invoices, plugin switches
and settings), :mod:`.background` (running queued work) and :mod:`.plugins` (the sandbox processor, a hook
recorder). A plugin's tests need nothing else from core but :mod:`core.plugin_api`.
"""
