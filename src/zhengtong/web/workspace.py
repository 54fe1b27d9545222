"""Workspace counters (待办, 待阅, …): later apps register a provider; the home page shows them all."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Counter:
    key: str
    label: str
    url_name: str | None
    count: Callable  # (user) -> int


COUNTERS: dict[str, Counter] = {}


def register(counter: Counter) -> None:
    COUNTERS[counter.key] = counter


def counts_for(user) -> list[tuple[Counter, int]]:
    return [(c, c.count(user)) for c in COUNTERS.values()]
