import os

# The browser fixtures are session-wide: one Chromium for the e2e tests and the plugins' page tests alike.
pytest_plugins = ["core.testing.fixtures", "core.testing.browser"]

# An app built without TESTING configures the process's logging (once); in the test run, only warnings,
# as before there was a handler, so background threads' info lines do not interleave with the results.
os.environ.setdefault("SUPRATA_LOG_LEVEL", "WARNING")
