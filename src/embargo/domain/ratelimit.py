"""The rules of rate limiting and log-in back-off, as plain arithmetic over counts and moments (Unix seconds).

Rate limits use fixed windows: a limit of N per W seconds allows N requests in each window [k·W, (k+1)·W),
and a refused request is told to come back when its window ends. (A client can send up to 2·N across a window
boundary; for abuse limits that is acceptable, and a fixed window needs one row per key, which several web
processes can increment atomically.)

Log-in back-off: once `free` log-ins have failed in a row, each further attempt must wait
`base · 2^(failures - free)` seconds (at most `ceiling`) after the last failure.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Limit:
    """`count` requests per `seconds`."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        """`"10/15m"` (ten per fifteen minutes), `"5/h"`, `"600/1m"`, `"100/30s"`, `"1000/d"`."""
        match = _LIMIT.match(text)
        if not match:
            raise ValueError(f"a rate limit reads COUNT/PERIOD, e.g. 10/15m or 5/h, not {text!r}")
        count, number, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
        if number <= 0:
            raise ValueError(f"the period of a rate limit must be positive: {text!r}")
        return cls(count, number * _UNITS[unit])

    def scaled(self, factor: float) -> Limit:
        return Limit(max(1, math.ceil(self.count * factor)), self.seconds)

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


def window_start(now: float, limit: Limit) -> int:
    """The start of the window holding `now`."""
    return int(now // limit.seconds) * limit.seconds


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # whole seconds to wait; 0 when allowed


def decide(count: int, limit: Limit, now: float) -> Decision:
    """`count` is the number of requests in the current window, this one included."""
    if count <= limit.count:
        return Decision(True, 0)
    end = window_start(now, limit) + limit.seconds
    return Decision(False, max(1, math.ceil(end - now)))


@dataclass(frozen=True)
class Backoff:
    free: int  # failures in a row before the first wait
    base: int  # seconds of the first wait
    ceiling: int  # the longest wait

    def delay(self, failures: int) -> int:
        """Seconds to wait after the last failure, given the failures so far."""
        if failures < self.free:
            return 0
        exponent = failures - self.free
        # 2**exponent grows without bound; stop computing once past the ceiling.
        if exponent >= 62 or self.base * 2**exponent >= self.ceiling:
            return self.ceiling
        return int(self.base * 2**exponent)

    def wait(self, failures: int, last_failure: float, now: float) -> int:
        """Whole seconds still to wait before another attempt (0: may try now)."""
        remaining = last_failure + self.delay(failures) - now
        return max(0, math.ceil(remaining))
