"""The example plugins' tests run on the fixtures core ships for plugin authors.

pytest accepts ``pytest_plugins`` only in a conftest it reads at start-up (one on the way to the paths it was
given), so it is declared here rather than in a package's own ``tests/conftest.py``; in a plugin's own
repository it goes in the top-level conftest.
"""

pytest_plugins = ["core.testing.fixtures"]
