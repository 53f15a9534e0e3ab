"""Periodic jobs that plugins declare: what their ``register_periodic_tasks(schedule)`` hook receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class PeriodicJob:
    """One plugin job: ``func()`` every ``minutes`` minutes, once per business that has the plugin on."""

    plugin_name: str
    name: str
    minutes: int
    func: Callable[[], object]

    @property
    def task_name(self) -> str:
        return f"{self.plugin_name}.{self.name}"

    def is_due(self, when: datetime) -> bool:
        """Due on each minute since the epoch divisible by ``minutes`` (60 means on the hour, UTC)."""
        minute = int(when.replace(tzinfo=when.tzinfo or UTC).timestamp()) // 60
        return minute % self.minutes == 0


class Schedule:
    """What a plugin's ``register_periodic_tasks(schedule)`` hook receives."""

    def __init__(self, plugin_name: str):
        self.plugin_name = plugin_name
        self.jobs: list[PeriodicJob] = []

    def every(self, name: str, minutes: int, func: Callable[[], object]) -> None:
        """Run ``func()`` every ``minutes`` minutes for each business that has the plugin switched on.

        Each run happens inside that business's context (queries are scoped to it, ``current_business()``
        works) and is committed when ``func`` returns; if it raises, its changes are rolled back and the
        error is logged and shown to staff on the plugins page, and the other businesses still run.
        """
        if not isinstance(minutes, int) or minutes < 1:
            raise ValueError(f"periodic job {name!r}: minutes must be a whole number of at least 1")
        self.jobs.append(PeriodicJob(self.plugin_name, name, minutes, func))


def collect_schedules(host) -> list[PeriodicJob]:
    """Ask every loaded plugin for its periodic jobs (the ``register_periodic_tasks`` hook).

    Each plugin gets a :class:`Schedule` of its own, so every job knows which plugin's switch governs it.
    A plugin whose hook raises is listed as broken, like any plugin that fails at start-up.
    """
    schedules: dict[str, Schedule] = {}

    def own_schedule(plugin_name: str) -> dict:
        schedules[plugin_name] = Schedule(plugin_name)
        return {"schedule": schedules[plugin_name]}

    called = host.call_all_plugins("register_periodic_tasks", per_plugin=own_schedule)
    return [job for name, _ in called for job in schedules[name].jobs]
