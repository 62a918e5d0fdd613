"""The workflow, read as the policy: who may move a report where, and what each move needs."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from embargo.domain import workflow
from embargo.domain.workflow import Actor, Context, State, TransitionRefused, check

REPORTER, COLLAB, MAINT, OWNER, SYSTEM = (
    Actor.REPORTER, Actor.COLLABORATOR, Actor.MAINTAINER, Actor.OWNER, Actor.SYSTEM,
)  # fmt: skip
TEAM = {MAINT, OWNER}
OPEN = [s for s in State if s not in {State.PUBLISHED, State.REJECTED, State.DUPLICATE, State.WITHDRAWN}]

# The whole table of allowed moves, written out from DESIGN.md's diagram: (from, to) -> who.
EXPECTED: dict[tuple[State, State], set[Actor]] = {
    (State.RECEIVED, State.ACKNOWLEDGED): TEAM,
    (State.RECEIVED, State.NEEDS_INFO): TEAM,
    (State.RECEIVED, State.CONFIRMED): TEAM,
    (State.ACKNOWLEDGED, State.NEEDS_INFO): TEAM,
    (State.ACKNOWLEDGED, State.CONFIRMED): TEAM,
    (State.NEEDS_INFO, State.RECEIVED): {SYSTEM},
    (State.NEEDS_INFO, State.ACKNOWLEDGED): {SYSTEM},
    (State.NEEDS_INFO, State.CONFIRMED): TEAM,
    (State.CONFIRMED, State.FIX_READY): TEAM,
    (State.FIX_READY, State.CONFIRMED): TEAM | {REPORTER},
    (State.SCHEDULED, State.CONFIRMED): TEAM | {REPORTER},
    (State.FIX_READY, State.SCHEDULED): {SYSTEM},
    (State.SCHEDULED, State.FIX_READY): {SYSTEM},
    (State.SCHEDULED, State.PUBLISHED): {SYSTEM},
    (State.FIX_READY, State.PUBLISHED): {SYSTEM},
}
for _source in OPEN:
    EXPECTED[(_source, State.REJECTED)] = TEAM
    EXPECTED[(_source, State.DUPLICATE)] = TEAM
    EXPECTED[(_source, State.WITHDRAWN)] = {REPORTER}

NEEDS_COMMENT = {
    (State.RECEIVED, State.ACKNOWLEDGED),
    (State.RECEIVED, State.NEEDS_INFO),
    (State.RECEIVED, State.CONFIRMED),
    (State.ACKNOWLEDGED, State.NEEDS_INFO),
}


def _context(source: State, target: State) -> Context:
    return Context(
        comment="We are on it." if (source, target) in NEEDS_COMMENT else "",
        duplicate_of_same_project=True if target is State.DUPLICATE else None,
        embargo_broken=(source, target) == (State.FIX_READY, State.PUBLISHED),
        fixes=1,
    )


ALL_CASES = [
    (source, target, actor)
    for source, target in itertools.product(State, State)
    for actor in Actor
    if source is not target
]


@pytest.mark.parametrize(("source", "target", "actor"), ALL_CASES, ids=lambda v: str(v))
def test_every_transition_by_every_role(source: State, target: State, actor: Actor) -> None:
    allowed = actor in EXPECTED.get((source, target), set())
    if allowed:
        assert check(source, target, {actor}, _context(source, target)).target is target
    else:
        with pytest.raises(TransitionRefused) as refused:
            check(source, target, {actor}, _context(source, target))
        assert refused.value.code == "transition_not_allowed"


def test_the_table_has_no_move_that_the_design_lacks() -> None:
    declared = {(m.source, m.target): set(m.actors) for m in workflow.MOVES}
    assert declared == EXPECTED


def test_a_refusal_names_the_allowed_next_states() -> None:
    with pytest.raises(TransitionRefused) as refused:
        check(State.RECEIVED, State.FIX_READY, {MAINT})
    assert refused.value.allowed == sorted(
        [State.ACKNOWLEDGED, State.CONFIRMED, State.DUPLICATE, State.NEEDS_INFO, State.REJECTED]
    )
    assert "acknowledged, confirmed, duplicate, needs_info, rejected" in refused.value.message


@pytest.mark.parametrize(("source", "target"), sorted(NEEDS_COMMENT))
def test_answering_or_asking_the_reporter_needs_a_comment(source: State, target: State) -> None:
    with pytest.raises(TransitionRefused) as refused:
        check(source, target, {MAINT}, Context(comment="   "))
    assert refused.value.code == "comment_required"


def test_a_duplicate_names_a_report_of_the_same_project() -> None:
    with pytest.raises(TransitionRefused, match="duplicate_of") as missing:
        check(State.ACKNOWLEDGED, State.DUPLICATE, {MAINT}, Context())
    assert missing.value.code == "duplicate_of_required"
    with pytest.raises(TransitionRefused, match="same project"):
        check(State.ACKNOWLEDGED, State.DUPLICATE, {MAINT}, Context(duplicate_of_same_project=False))
    with pytest.raises(TransitionRefused, match="itself"):
        check(
            State.ACKNOWLEDGED, State.DUPLICATE, {MAINT},
            Context(duplicate_of_same_project=True, duplicate_of_is_self=True),
        )  # fmt: skip
    assert check(State.ACKNOWLEDGED, State.DUPLICATE, {MAINT}, Context(duplicate_of_same_project=True))


def test_a_report_is_fix_ready_only_with_a_fix() -> None:
    with pytest.raises(TransitionRefused) as refused:
        check(State.CONFIRMED, State.FIX_READY, {MAINT}, Context(fixes=0))
    assert refused.value.code == "fix_required"
    assert check(State.CONFIRMED, State.FIX_READY, {MAINT}, Context(fixes=1))


def test_publishing_before_scheduling_needs_a_broken_embargo() -> None:
    with pytest.raises(TransitionRefused) as refused:
        check(State.FIX_READY, State.PUBLISHED, {SYSTEM}, Context(embargo_broken=False))
    assert refused.value.code == "embargo_not_broken"


def test_a_person_who_is_both_reporter_and_maintainer_may_do_what_either_may() -> None:
    assert check(State.CONFIRMED, State.WITHDRAWN, {REPORTER, MAINT})
    assert check(State.CONFIRMED, State.FIX_READY, {REPORTER, MAINT}, Context(fixes=1))


@pytest.mark.parametrize(
    ("previous", "back"),
    [(State.RECEIVED, State.RECEIVED), (State.ACKNOWLEDGED, State.ACKNOWLEDGED), (None, State.ACKNOWLEDGED)],
)
def test_a_reply_returns_the_report_where_it_waited_from(previous: State | None, back: State) -> None:
    assert workflow.return_from_needs_info(previous) is back
    assert check(State.NEEDS_INFO, back, {SYSTEM})


def test_a_scheduled_report_taken_out_of_its_release_returns_to_fix_ready_only_by_embargo_itself() -> None:
    assert check(State.SCHEDULED, State.FIX_READY, {SYSTEM}, Context(fixes=1))
    for person in (REPORTER, MAINT, OWNER):
        with pytest.raises(TransitionRefused):
            check(State.SCHEDULED, State.FIX_READY, {person}, Context(fixes=1))


def test_scheduled_and_published_are_not_requestable() -> None:
    assert State.SCHEDULED not in workflow.REQUESTABLE
    assert State.PUBLISHED not in workflow.REQUESTABLE
    assert workflow.allowed_targets(State.FIX_READY, {MAINT}, requestable_only=True) == [
        State.CONFIRMED, State.DUPLICATE, State.REJECTED,
    ]  # fmt: skip


def test_terminal_states_go_nowhere() -> None:
    for state in (State.PUBLISHED, State.REJECTED, State.DUPLICATE, State.WITHDRAWN):
        assert workflow.allowed_targets(state, set(Actor)) == []


def test_the_domain_imports_no_django() -> None:
    domain = Path(workflow.__file__).parent
    for source in domain.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "django" for n in names), f"{source.name} imports {names}"
