# The browser fixtures are session-wide: one Chromium for the e2e tests and the plugins' page tests alike.
pytest_plugins = ["core.testing.fixtures", "core.testing.browser"]
