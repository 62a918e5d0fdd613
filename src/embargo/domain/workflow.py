"""The workflow of a report: its states, who may move it where, and the guards on each move.

Everything else in Embargo asks this module; nothing else decides whether a transition is allowed.

    received ──> acknowledged ──> confirmed ──> fix_ready ──> scheduled ──> published
       │   ▲          │  ▲            ▲              │             │
       │   └─ needs_info ─┘           └──────────────┴─────────────┘  reporter: "still vulnerable"
       └──────── rejected · duplicate (of another report) · withdrawn   (terminal, from any open state)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    NEEDS_INFO = "needs_info"
    CONFIRMED = "confirmed"
    FIX_READY = "fix_ready"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"


class Actor(StrEnum):
    """Who asks for a transition. A person may be several at once (a maintainer who reported)."""

    REPORTER = "reporter"
    COLLABORATOR = "collaborator"
    MAINTAINER = "maintainer"
    OWNER = "owner"
    # Embargo itself, inside an action of a later stage (sending notices, publishing, a reply).
    SYSTEM = "system"


TEAM = frozenset({Actor.MAINTAINER, Actor.OWNER})
TERMINAL = frozenset({State.PUBLISHED, State.REJECTED, State.DUPLICATE, State.WITHDRAWN})
OPEN = frozenset(State) - TERMINAL
# The triage transitions that people ask for through `POST /reports/{id}/transitions`. `scheduled` and
# `published` are entered only by the actions that send packager notices and publish.
REQUESTABLE = frozenset(
    {
        State.ACKNOWLEDGED,
        State.NEEDS_INFO,
        State.CONFIRMED,
        State.FIX_READY,
        State.REJECTED,
        State.DUPLICATE,
        State.WITHDRAWN,
    }
)


@dataclass(frozen=True)
class Move:
    source: State
    target: State
    actors: frozenset[Actor]
    # The comment becomes a message to the reporter: answering and asking must say something.
    requires_comment: bool = False


def _moves() -> tuple[Move, ...]:
    moves = [
        Move(State.RECEIVED, State.ACKNOWLEDGED, TEAM, requires_comment=True),
        Move(State.RECEIVED, State.NEEDS_INFO, TEAM, requires_comment=True),
        # The reference policy: "If we were able to rapidly reproduce the issue, the initial response
        # will also contain confirmation of the issue." Confirming first is also the first answer.
        Move(State.RECEIVED, State.CONFIRMED, TEAM, requires_comment=True),
        Move(State.ACKNOWLEDGED, State.NEEDS_INFO, TEAM, requires_comment=True),
        Move(State.ACKNOWLEDGED, State.CONFIRMED, TEAM),
        # needs_info goes back where it came from when the reporter answers (see `return_from_needs_info`);
        # the team may also go on without an answer once it has reproduced the problem.
        Move(State.NEEDS_INFO, State.RECEIVED, frozenset({Actor.SYSTEM})),
        Move(State.NEEDS_INFO, State.ACKNOWLEDGED, frozenset({Actor.SYSTEM})),
        Move(State.NEEDS_INFO, State.CONFIRMED, TEAM),
        Move(State.CONFIRMED, State.FIX_READY, TEAM),
        # "Still vulnerable": the reporter says so (or the team finds its fix wanting).
        Move(State.FIX_READY, State.CONFIRMED, TEAM | {Actor.REPORTER}),
        Move(State.SCHEDULED, State.CONFIRMED, TEAM | {Actor.REPORTER}),
        Move(State.FIX_READY, State.SCHEDULED, frozenset({Actor.SYSTEM})),
        # Taken out of its security release after the notices went out: the fix stands, the date no longer.
        Move(State.SCHEDULED, State.FIX_READY, frozenset({Actor.SYSTEM})),
        Move(State.SCHEDULED, State.PUBLISHED, frozenset({Actor.SYSTEM})),
        # Straight to publication only when the embargo is broken (guarded in `check`).
        Move(State.FIX_READY, State.PUBLISHED, frozenset({Actor.SYSTEM})),
    ]
    for source in sorted(OPEN):
        moves.append(Move(source, State.REJECTED, TEAM))
        moves.append(Move(source, State.DUPLICATE, TEAM))
        moves.append(Move(source, State.WITHDRAWN, frozenset({Actor.REPORTER})))
    return tuple(moves)


MOVES: tuple[Move, ...] = _moves()
_BY_EDGE: dict[tuple[State, State], Move] = {(m.source, m.target): m for m in MOVES}


@dataclass(frozen=True)
class Context:
    """What the guards need to know besides the states."""

    comment: str = ""
    duplicate_of_same_project: bool | None = None  # None: no duplicate_of given
    duplicate_of_is_self: bool = False
    embargo_broken: bool = False
    # How many fixes the report has: a report is fix_ready only with at least one.
    fixes: int = 0


class TransitionRefused(Exception):
    """The transition is not allowed; `allowed` lists the states this actor may go to from here."""

    def __init__(self, message: str, *, allowed: Iterable[State] = (), code: str = "transition_not_allowed"):
        super().__init__(message)
        self.message = message
        self.allowed = sorted(allowed)
        self.code = code


def allowed_targets(source: State, actors: Iterable[Actor], *, requestable_only: bool = False) -> list[State]:
    """The states that any of `actors` may move a report to from `source` (guards aside)."""
    who = frozenset(actors)
    targets = {m.target for m in MOVES if m.source == source and m.actors & who}
    if requestable_only:
        targets &= REQUESTABLE
    return sorted(targets)


def _refusal(source: State, target: State, actors: frozenset[Actor], why: str) -> TransitionRefused:
    allowed = allowed_targets(source, actors, requestable_only=Actor.SYSTEM not in actors)
    names = ", ".join(allowed) if allowed else "none"
    return TransitionRefused(f"{why} Allowed next states from {source}: {names}.", allowed=allowed)


def check(source: State, target: State, actors: Iterable[Actor], context: Context = Context()) -> Move:
    """Returns the move if `actors` may take the report from `source` to `target`; else raises."""
    who = frozenset(actors)
    move = _BY_EDGE.get((source, target))
    if move is None or not (move.actors & who):
        raise _refusal(source, target, who, f"A report cannot go from {source} to {target} by your hand.")
    if move.requires_comment and not context.comment.strip():
        raise TransitionRefused(
            f"Going to {target} sends a message to the reporter: write it in `comment`.",
            allowed=allowed_targets(source, who, requestable_only=True),
            code="comment_required",
        )
    if target is State.DUPLICATE:
        if context.duplicate_of_same_project is None:
            raise TransitionRefused(
                "Marking a duplicate needs `duplicate_of`: the report it repeats.",
                code="duplicate_of_required",
            )
        if context.duplicate_of_is_self:
            raise TransitionRefused("A report cannot duplicate itself.", code="duplicate_of_invalid")
        if not context.duplicate_of_same_project:
            raise TransitionRefused("`duplicate_of` must be a report of the same project.", code="duplicate_of_invalid")
    if target is State.FIX_READY and context.fixes < 1:
        raise TransitionRefused(
            "A report is fix_ready only once it has a fix: add a patch, commits or an interim release first.",
            code="fix_required",
        )
    if (source, target) == (State.FIX_READY, State.PUBLISHED) and not context.embargo_broken:
        raise TransitionRefused(
            "Publishing before the security release is scheduled needs the embargo to be recorded as broken.",
            code="embargo_not_broken",
        )
    return move


def return_from_needs_info(previous: State | None) -> State:
    """Where a reporter's answer takes a report that waited in `needs_info`."""
    if previous in (State.RECEIVED, State.ACKNOWLEDGED):
        return previous
    return State.ACKNOWLEDGED


def is_open(state: State) -> bool:
    return state in OPEN
