"""Test support that core ships for its own suite, for plugin authors' suites, and for the offline demo.

Add ``pytest_plugins = ["core.testing.fixtures"]`` to a ``conftest.py`` to get the ``app``, ``db``,
``client``, ``business``, ``mailbox``, ``stripe_server`` and ``register_plugin`` fixtures.
"""
