"""The audit log's hash chains in the database: appending an event, writing a checkpoint, verifying the log.

The rules (what is hashed, how links and checkpoints are checked) are in embargo.domain.audit_chain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from embargo import clock
from embargo.audit.models import Checkpoint, Event
from embargo.domain import audit_chain
from embargo.domain.audit_chain import GENESIS, Break, CheckpointLink, Link, Verifier


def moment(value: dt.datetime) -> str:
    """A moment as hashed: UTC, ISO 8601, with microseconds (as every supported database stores it)."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def event_fields(event: Event) -> dict[str, Any]:
    """The fields of an event that its hash covers: all of them but its row id and the hashes."""
    return {
        "chain": event.chain,
        "seq": event.seq,
        "tag": str(event.tag),
        "actor": event.actor_id,
        "project": event.project_id,
        "report": event.report_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "audience": str(event.audience),
        "data": event.data,
        "created_at": moment(event.created_at),
    }


def append(event: Event) -> None:
    """Sets the event's chain position and hashes from its chain's current head (not saved)."""
    event.chain = audit_chain.chain_key(report_id=event.report_id, project_id=event.project_id)
    head = Event.objects.filter(chain=event.chain).order_by("-seq").values_list("seq", "hash").first()
    event.seq, event.prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS)
    event.hash = audit_chain.link_hash(event.prev_hash, event_fields(event))


# --- checkpoints ------------------------------------------------------------------------------------


def checkpoint_due(now: dt.datetime) -> bool:
    """One indexed query: has the interval passed since the latest checkpoint?"""
    latest = Checkpoint.objects.order_by("-seq").values_list("created_at", flat=True).first()
    interval = dt.timedelta(minutes=settings.EMBARGO_AUDIT_CHECKPOINT_MINUTES)
    return latest is None or now - latest > interval


def write_checkpoint(now: dt.datetime | None = None) -> Checkpoint:
    """Pins the heads of the chains that moved since the previous checkpoint. Two writers at once: the unique seq
    lets one win; the other's transaction fails and its next pass finds no checkpoint due."""
    now = now or clock.now()
    with transaction.atomic():
        previous = Checkpoint.objects.order_by("-seq").first()
        since = previous.last_event_id if previous else 0
        newer = Event.objects.filter(id__gt=since)
        last_event_id = newer.aggregate(last=Max("id"))["last"] or since
        tops = newer.filter(id__lte=last_event_id).values("chain").annotate(top=Max("seq"))
        heads: list[tuple[str, int, str]] = []
        for row in tops:
            stored = Event.objects.filter(chain=row["chain"], seq=row["top"]).values_list("hash", flat=True).first()
            heads.append((row["chain"], row["top"], stored or ""))
        seq = previous.seq + 1 if previous else 1
        prev_hash = previous.hash if previous else GENESIS
        created_at = moment(now)
        digest = audit_chain.link_hash(prev_hash, audit_chain.checkpoint_fields(seq, created_at, heads))
        return Checkpoint.objects.create(
            seq=seq,
            created_at=now,
            heads=[list(h) for h in sorted(heads)],
            last_event_id=last_event_id,
            prev_hash=prev_hash,
            hash=digest,
        )


def checkpoint_if_due(now: dt.datetime) -> Checkpoint | None:
    """The worker's call each pass: cheap when none is due."""
    return write_checkpoint(now) if checkpoint_due(now) else None


# --- verification -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    events: int
    chains: int
    checkpoints: int
    broken: Break | None
    where: str  # the broken link named for a person ("report 3f…: event 4 (id 17, message:posted)")


def _checkpoint_links() -> list[CheckpointLink]:
    return [
        CheckpointLink(
            seq=cp.seq,
            prev_hash=cp.prev_hash,
            hash=cp.hash,
            created_at=moment(cp.created_at),
            heads=tuple((str(c), int(s), str(h)) for c, s, h in cp.heads),
        )
        for cp in Checkpoint.objects.order_by("seq")
    ]


def _links() -> Iterator[Link]:
    for event in Event.objects.order_by("chain", "seq").iterator(chunk_size=2000):
        yield Link(
            chain=event.chain,
            seq=event.seq,
            prev_hash=event.prev_hash,
            hash=event.hash,
            fields=event_fields(event),
            label=f"id {event.pk}, {event.tag}",
        )


def chain_name(chain: str) -> str:
    """ "report:12" → "report <its public id>", "project:3" → "project <slug>"."""
    from embargo.projects.models import Project
    from embargo.reports.models import Report

    kind, _, pk = chain.partition(":")
    if kind == "report":
        public_id = Report.objects.filter(pk=pk).values_list("public_id", flat=True).first()
        return f"report {public_id or pk}"
    if kind == "project":
        slug = Project.objects.filter(pk=pk).values_list("slug", flat=True).first()
        return f"project {slug or pk}"
    return chain


def describe(broken: Break) -> str:
    if broken.chain == "checkpoint":
        where = f"checkpoint {broken.seq}"
    else:
        where = f"{chain_name(broken.chain)}: event {broken.seq}"
        if broken.label:
            where += f" ({broken.label})"
    text = f"{where} broken: {broken.reason}"
    if broken.stored or broken.computed:
        text += f": stored hash {broken.stored or '-'}, computed {broken.computed or '-'}"
    return text


def verify(progress: Callable[[int], None] | None = None) -> Outcome:
    """Recomputes every event's hash in chain order, then checks the checkpoints; stops at the first break."""
    checkpoints = _checkpoint_links()
    verifier = Verifier(pinned={(c, s) for cp in checkpoints for c, s, _ in cp.heads})
    broken: Break | None = None
    for link in _links():
        broken = verifier.event(link)
        if progress is not None:
            progress(verifier.events)
        if broken is not None:
            break
    if broken is None:
        broken = verifier.checkpoints(checkpoints)
    return Outcome(
        events=verifier.events,
        chains=verifier.chains,
        checkpoints=len(checkpoints),
        broken=broken,
        where=describe(broken) if broken else "",
    )
