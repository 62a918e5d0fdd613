"""Importing OSV records (GHSA and PYSEC ones included) into a project's published history."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from embargo import clock
from embargo.accounts.models import User
from embargo.advisories import index
from embargo.advisories.models import Advisory, AdvisoryState
from embargo.audit.actions import record_event
from embargo.audit.tags import Tag
from embargo.domain import advisory as domain
from embargo.formats import osv as osv_format
from embargo.projects.models import Project

MAX_RECORD_BYTES = 5 * 1024 * 1024


@dataclass
class ImportResult:
    imported: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def records_in(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every .json record in a file, a folder (recursively) or a zip archive."""
    if path.is_dir():
        for item in sorted(path.rglob("*.json")):
            yield str(item.relative_to(path)), item.read_bytes()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                if info.filename.endswith(".json") and not info.is_dir():
                    if info.file_size > MAX_RECORD_BYTES:
                        yield info.filename, b""
                        continue
                    yield info.filename, archive.read(info)
    else:
        yield path.name, path.read_bytes()


def import_record(project: Project, name: str, raw: bytes, result: ImportResult, *, acting_user: User | None) -> None:
    try:
        if not raw or len(raw) > MAX_RECORD_BYTES:
            raise ValueError(f"empty or larger than {MAX_RECORD_BYTES} bytes")
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        record = osv_format.parse(data)
    except (ValueError, domain.AdvisoryError) as e:
        result.rejected.append((name, str(e)))
        return
    with transaction.atomic():
        existing = Advisory.objects.filter(readable_id=record.id).first()
        if existing is not None:
            result.present.append(record.id)
            return
        if record.cve_id and Advisory.objects.filter(cve_id=record.cve_id).exists():
            result.rejected.append((name, f"{record.cve_id} belongs to another advisory here"))
            return
        moment = clock.now()
        draft = osv_format.build(record)
        advisory = Advisory.objects.create(
            readable_id=record.id,
            project=project,
            draft=json.dumps(draft, sort_keys=True),
            cve_id=record.cve_id,
            aliases=list(record.aliases),
            state=AdvisoryState.PUBLISHED,
            imported=True,
            created_at=moment,
            updated_at=record.modified,
            published_at=record.published or record.modified,
        )
        index.refresh(advisory)
        record_event(
            Tag.ADVISORY_IMPORTED, actor=acting_user, project=project,
            data={"id": record.id, "aliases": list(record.aliases), "file": name},
        )  # fmt: skip
        result.imported.append(record.id)
