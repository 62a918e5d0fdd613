"""The audit log's hash rule and verification walk, as plain data."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from embargo.domain.audit_chain import (
    GENESIS,
    CheckpointLink,
    Link,
    canonical,
    chain_key,
    checkpoint_fields,
    link_hash,
    verify,
)


def chain(name: str, n: int) -> list[Link]:
    links, prev = [], GENESIS
    for seq in range(1, n + 1):
        fields = {"chain": name, "seq": seq, "tag": "message:posted", "data": {"n": seq, "é": ["x", None]}}
        h = link_hash(prev, fields)
        links.append(Link(name, seq, prev, h, fields, label=f"id {seq}"))
        prev = h
    return links


def checkpoint(seq: int, prev: str, heads: list[tuple[str, int, str]]) -> CheckpointLink:
    created = f"2026-12-01T0{seq}:00:00.000000+00:00"
    h = link_hash(prev, checkpoint_fields(seq, created, heads))
    return CheckpointLink(seq, prev, h, created, tuple(heads))


def test_canonical_form_is_sorted_compact_ascii_json() -> None:
    assert canonical({"b": 1, "a": {"d": "é", "c": None}}) == b'{"a":{"c":null,"d":"\\u00e9"},"b":1}'


def test_the_hash_is_sha256_of_the_previous_hash_then_the_canonical_fields() -> None:
    fields = {"seq": 1, "tag": "report:created"}
    assert link_hash(GENESIS, fields) == hashlib.sha256(GENESIS.encode() + canonical(fields)).hexdigest()


def test_events_chain_by_report_else_project_else_instance() -> None:
    assert chain_key(report_id=7, project_id=3) == "report:7"
    assert chain_key(report_id=None, project_id=3) == "project:3"
    assert chain_key(report_id=None, project_id=None) == "instance"


def test_an_intact_log_verifies() -> None:
    a, b = chain("report:1", 3), chain("report:2", 2)
    cp = checkpoint(1, GENESIS, [("report:1", 3, a[-1].hash), ("report:2", 2, b[-1].hash)])
    assert verify([*a, *b], [cp]) is None


def test_an_edited_event_breaks_at_that_event_with_stored_and_computed_hashes() -> None:
    links = chain("report:1", 3)
    links[1] = replace(links[1], fields={**links[1].fields, "tag": "report:transitioned"})
    broken = verify(links, [])
    assert broken is not None
    assert (broken.chain, broken.seq, broken.reason) == ("report:1", 2, "hash mismatch")
    assert broken.stored == links[1].hash
    assert broken.computed == link_hash(links[1].prev_hash, links[1].fields)


def test_an_edited_event_whose_hash_was_recomputed_breaks_the_next_link() -> None:
    links = chain("report:1", 3)
    fields = {**links[1].fields, "tag": "report:transitioned"}
    links[1] = replace(links[1], fields=fields, hash=link_hash(links[1].prev_hash, fields))
    broken = verify(links, [])
    assert broken is not None
    assert (broken.seq, broken.reason) == (3, "previous hash mismatch")


def test_a_deleted_event_is_named_as_missing() -> None:
    links = chain("report:1", 4)
    del links[1]
    broken = verify(links, [])
    assert broken is not None
    assert (broken.chain, broken.seq) == ("report:1", 2)
    assert "missing" in broken.reason


def test_a_truncated_chain_is_caught_by_the_checkpoint_that_pinned_its_head() -> None:
    links = chain("report:1", 3)
    cp = checkpoint(1, GENESIS, [("report:1", 3, links[-1].hash)])
    assert verify(links, [cp]) is None
    broken = verify(links[:2], [cp])  # the last event deleted: the chain itself still looks whole
    assert broken is not None
    assert (broken.chain, broken.seq) == ("checkpoint", 1)
    assert "no longer in its chain" in broken.reason


def test_a_rewritten_chain_no_longer_matches_its_checkpoint() -> None:
    links = chain("report:1", 2)
    cp = checkpoint(1, GENESIS, [("report:1", 2, links[-1].hash)])
    fields = {**links[1].fields, "tag": "forged"}
    rewritten = [links[0], replace(links[1], fields=fields, hash=link_hash(links[1].prev_hash, fields))]
    broken = verify(rewritten, [cp])
    assert broken is not None
    assert broken.reason.endswith("has changed")
    assert (broken.stored, broken.computed) == (links[1].hash, rewritten[1].hash)


def test_checkpoints_form_a_chain_of_their_own() -> None:
    links = chain("report:1", 2)
    first = checkpoint(1, GENESIS, [("report:1", 1, links[0].hash)])
    second = checkpoint(2, first.hash, [("report:1", 2, links[1].hash)])
    assert verify(links, [first, second]) is None
    assert verify(links, [second]) is not None  # the first one deleted
    edited = replace(first, heads=())  # its pins removed behind its back
    broken = verify(links, [edited, second])
    assert broken is not None
    assert (broken.seq, broken.reason) == (1, "hash mismatch")
