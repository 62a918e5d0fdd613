"""`embargo django osv_reindex`: rebuilds the published OSV records and the package index (after a change to
EMBARGO_OSV_REGISTERED_PREFIXES, or to repair them); prints progress; exit 0."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from embargo.advisories import index


class Command(BaseCommand):
    help = "Rebuild the published OSV records and the OSV package index."

    def handle(self, *args: Any, **options: Any) -> None:
        done = index.rebuild(lambda n: self.stdout.write(f"{n} advisories indexed…"))
        self.stdout.write(f"Done: {done} published advisories.")
