"""The one clock that all of Embargo reads. Tests freeze and advance it; nothing else calls `now()`
of the standard library or of Django directly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current moment, timezone-aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(dt.UTC)


def freeze(moment: dt.datetime | None) -> None:
    """Stops the clock at `moment` (aware), or restarts the real clock with None."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock only holds timezone-aware moments")
    _frozen = moment.astimezone(dt.UTC) if moment is not None else None


def advance(delta: dt.timedelta) -> dt.datetime:
    """Moves a frozen clock forward."""
    if _frozen is None:
        raise RuntimeError("advance() needs a frozen clock")
    freeze(_frozen + delta)
    return now()


@contextmanager
def frozen_at(moment: dt.datetime) -> Iterator[None]:
    previous = _frozen
    freeze(moment)
    try:
        yield
    finally:
        freeze(previous)
