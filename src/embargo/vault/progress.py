"""Progress on standard error for long operator commands (key rotation, backup, restore): a bar on a terminal,
a line at most every few seconds (and at the end) when stderr goes to a file or a pipe."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    def __init__(
        self, label: str, *, unit: str = "", total: int = 0, scale_bytes: bool = False, enabled: bool = True
    ) -> None:
        self.label, self.unit, self.total, self.scale_bytes, self.enabled = label, unit, total, scale_bytes, enabled
        self.stream: TextIO = sys.stderr
        self.done = 0
        self._last_line = 0.0
        self._printed = -1
        self._bar: Any = None
        if enabled and self.stream.isatty():
            from tqdm import tqdm

            unit_scale = {"unit_scale": True, "unit_divisor": 1024} if scale_bytes else {}
            self._bar = tqdm(total=total, desc=label, unit=unit or "it", file=self.stream, **unit_scale)

    def set_total(self, total: int) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def advance(self, amount: int) -> None:
        self.update(self.done + amount)

    def update(self, done: int) -> None:
        if not self.enabled:
            self.done = done
            return
        if self._bar is not None:
            self._bar.update(done - self.done)
        elif time.monotonic() - self._last_line >= 2:
            self._line(done)
        self.done = done

    def close(self) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
        elif self._printed != self.done:
            self._line(self.done)

    def _amount(self, n: int) -> str:
        if not self.scale_bytes:
            return str(n)
        size = float(n)
        for suffix in ("B", "KiB", "MiB", "GiB"):
            if size < 1024 or suffix == "GiB":
                return f"{size:.0f} {suffix}" if suffix == "B" else f"{size:.1f} {suffix}"
            size /= 1024
        return str(n)

    def _line(self, done: int) -> None:
        self._last_line, self._printed = time.monotonic(), done
        share = f" ({100 * done // self.total}%)" if self.total else ""
        unit = f" {self.unit}" if self.unit and not self.scale_bytes else ""
        total = f"/{self._amount(self.total)}" if self.total else ""
        print(f"embargo: {self.label}: {self._amount(done)}{total}{unit}{share}", file=self.stream, flush=True)
