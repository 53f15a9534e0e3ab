import os

pytest_plugins = ["core.testing.fixtures"]

# An app built without TESTING configures the process's logging (once); in the test run, only warnings,
# as before there was a handler, so background threads' info lines do not interleave with the results.
os.environ.setdefault("SUPRATA_LOG_LEVEL", "WARNING")
