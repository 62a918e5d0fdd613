"""The audit log's hash chains, as plain data (no Django).

Every audit event belongs to one chain (a report's events, a project's events without a report, or the instance's
events without a project). Within a chain, events are numbered 1, 2, 3, … (`seq`) and each stores

    h = sha256(prev_hash || canonical(event))

where `prev_hash` is the previous event's `h` (64 zeros for the first) and `canonical` is the event's fields as
JSON with sorted keys and no spaces. Editing an event changes its `h`; deleting one leaves a gap in `seq` or a
`prev_hash` that no longer matches; only the tail of a chain could go unnoticed, which is what checkpoints are for.

A checkpoint, written periodically, is itself a chain (seq 1, 2, …) whose entries list the heads
(chain, seq, hash) of the chains that moved since the previous checkpoint. Its hash covers those heads, so
truncating or rewriting a chain after a checkpoint breaks either the chain or the checkpoint's recorded head.
Chains are per report so that writes to different reports never wait for one another; only the checkpoint,
written by the worker, chains them all together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64
INSTANCE_CHAIN = "instance"


def chain_key(*, report_id: int | None, project_id: int | None) -> str:
    """The chain an event belongs to: its report's, else its project's, else the instance's."""
    if report_id is not None:
        return f"report:{report_id}"
    if project_id is not None:
        return f"project:{project_id}"
    return INSTANCE_CHAIN


def canonical(fields: Mapping[str, Any]) -> bytes:
    """One byte string per content: sorted keys, no whitespace, ASCII only (so no Unicode normalisation issue)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def link_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(fields)).hexdigest()


def checkpoint_fields(seq: int, created_at: str, heads: Iterable[tuple[str, int, str]]) -> dict[str, Any]:
    """What a checkpoint's hash covers: its position, moment and the heads it pins, in a stable order."""
    return {"seq": seq, "created_at": created_at, "heads": [list(h) for h in sorted(heads)]}


@dataclass(frozen=True)
class Link:
    """One stored event as the verifier sees it: `fields` is what was hashed (including chain and seq)."""

    chain: str
    seq: int
    prev_hash: str
    hash: str
    fields: Mapping[str, Any]
    label: str = ""  # how to name the event to a person, e.g. "id 42, message:posted"


@dataclass(frozen=True)
class CheckpointLink:
    seq: int
    prev_hash: str
    hash: str
    created_at: str
    heads: tuple[tuple[str, int, str], ...]


@dataclass(frozen=True)
class Break:
    """The first broken link found: where (chain and seq, or checkpoint seq) and why."""

    chain: str  # "checkpoint" for the checkpoints' own chain
    seq: int
    reason: str
    stored: str = ""
    computed: str = ""
    label: str = ""


@dataclass
class Verifier:
    """Walks the chains event by event (each chain in seq order, chains one after another), then the checkpoints.

    Memory stays small: only the (chain, seq) pairs that checkpoints pin are remembered, with their hashes."""

    pinned: set[tuple[str, int]] = field(default_factory=set)
    seen: dict[tuple[str, int], str] = field(default_factory=dict)
    chains: int = 0
    events: int = 0
    _chain: str | None = None
    _seq: int = 0
    _hash: str = GENESIS

    def event(self, link: Link) -> Break | None:
        if link.chain != self._chain:
            self._chain, self._seq, self._hash = link.chain, 0, GENESIS
            self.chains += 1
        self.events += 1
        expected = self._seq + 1
        if link.seq != expected:
            reason = f"event {expected} is missing (the next stored one is {link.seq})"
            return Break(link.chain, expected, reason, label=link.label)
        if link.prev_hash != self._hash:
            return Break(link.chain, link.seq, "previous hash mismatch", link.prev_hash, self._hash, link.label)
        computed = link_hash(link.prev_hash, link.fields)
        if computed != link.hash:
            return Break(link.chain, link.seq, "hash mismatch", link.hash, computed, link.label)
        self._seq, self._hash = link.seq, link.hash
        if (link.chain, link.seq) in self.pinned:
            self.seen[link.chain, link.seq] = link.hash
        return None

    def checkpoints(self, checkpoints: Iterable[CheckpointLink]) -> Break | None:
        """The checkpoints' own chain, and that every head each pins is still in its chain with that hash."""
        seq, prev = 0, GENESIS
        for cp in checkpoints:
            label = f"checkpoint {cp.seq}"
            if cp.seq != seq + 1:
                reason = f"checkpoint {seq + 1} is missing (the next stored one is {cp.seq})"
                return Break("checkpoint", seq + 1, reason, label=label)
            if cp.prev_hash != prev:
                return Break("checkpoint", cp.seq, "previous hash mismatch", cp.prev_hash, prev, label)
            computed = link_hash(cp.prev_hash, checkpoint_fields(cp.seq, cp.created_at, cp.heads))
            if computed != cp.hash:
                return Break("checkpoint", cp.seq, "hash mismatch", cp.hash, computed, label)
            for chain, head_seq, head_hash in cp.heads:
                found = self.seen.get((chain, head_seq))
                if found is None:
                    reason = f"pinned head {chain} event {head_seq} is no longer in its chain"
                    return Break("checkpoint", cp.seq, reason, head_hash, "", label)
                if found != head_hash:
                    reason = f"pinned head {chain} event {head_seq} has changed"
                    return Break("checkpoint", cp.seq, reason, head_hash, found, label)
            seq, prev = cp.seq, cp.hash
        return None


def verify(links: Iterable[Link], checkpoints: Iterable[CheckpointLink]) -> Break | None:
    """The first broken link of a whole log held in memory (the command streams instead, with `Verifier`)."""
    cps = list(checkpoints)
    verifier = Verifier(pinned={(c, s) for cp in cps for c, s, _ in cp.heads})
    for link in links:
        broken = verifier.event(link)
        if broken is not None:
            return broken
    return verifier.checkpoints(cps)
