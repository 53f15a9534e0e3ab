"""The plugin and its tests import nothing from core but ``core.plugin_api`` (and, in tests,
``core.testing``): what a third-party plugin may rely on. A new import of anything else in core fails
here."""

from pathlib import Path

import pytest

from core.testing.contracts import PLUGIN_MAY_IMPORT, PLUGIN_TESTS_MAY_IMPORT, imports_beyond

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("allowed", "path"), [
    *[(PLUGIN_MAY_IMPORT, p) for p in sorted((ROOT / "plugins" / "sms_twilio").rglob("*.py"))],
    *[(PLUGIN_TESTS_MAY_IMPORT, p) for p in sorted((ROOT / "tests" / "sms_twilio").glob("*.py"))],
], ids=lambda value: value.name if isinstance(value, Path) else "")
def test_only_the_public_api_and_the_test_kit_are_imported(allowed, path):
    assert imports_beyond(path, allowed) == [], f"{path.name} imports more of core than {allowed}"
