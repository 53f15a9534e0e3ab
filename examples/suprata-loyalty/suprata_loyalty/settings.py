"""The settings a business can change on the console's plugins page."""

from core.plugin_api import Setting, settings_of


def _at_least_one(value: int) -> None:
    if value < 1:
        raise ValueError("Enter 1 or more.")


SETTINGS = [
    Setting(
        name="points_per_unit",
        label="Points per dollar",
        kind="int",
        default=1,
        help="Points a customer earns for each whole unit of the invoice currency they pay.",
        validate=_at_least_one,
    ),
]


def points_per_unit() -> int:
    """The current business's rate."""
    return settings_of(__name__)["points_per_unit"]
