"""When a report may be handed to another project of the instance (e.g. the vulnerable code is in a dependency).

A transfer moves the whole case — thread, files, fixes, advisory draft — to the receiving team, so it is allowed
only while the case is still open and no other party has been told about it under the sending project's name:

- open states only: a published, rejected, duplicate or withdrawn report is history and stays where it ended;
- not `scheduled`: the sending project's packagers were notified under embargo; take the report out of its
  security release first (which returns it to `fix_ready`), then transfer it;
- not held for review, not marked as spam, not purged: let it into the inbox first (the owners decide on held
  reports), and spam is not handed on;
- never to the project it is in.
"""

from __future__ import annotations

from dataclasses import dataclass

from embargo.domain.workflow import State, is_open


@dataclass(frozen=True)
class TransferFacts:
    state: State
    same_project: bool
    held: bool = False
    spam: bool = False
    purged: bool = False


class TransferRefused(Exception):
    """The transfer may not happen; `code` and `field` as the API reports them."""

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message)
        self.message, self.code, self.field = message, code, field


def check_transfer(facts: TransferFacts) -> None:
    """Returns if the report may be transferred; raises TransferRefused saying why not and what to do."""
    if facts.same_project:
        raise TransferRefused(
            "The report is already in this project: choose another project.",
            code="transfer_to_same_project",
            field="project",
        )
    if facts.purged or facts.spam:
        raise TransferRefused("A report marked as spam or purged is not handed on.", code="transfer_not_allowed")
    if not is_open(facts.state):
        raise TransferRefused(
            f"The report is closed ({facts.state}): only an open report can be transferred.",
            code="transfer_not_allowed",
        )
    if facts.state is State.SCHEDULED:
        raise TransferRefused(
            "The report is scheduled: packagers were told under this project's embargo. Take it out of its security "
            "release first, then transfer it.",
            code="transfer_not_allowed",
        )
    if facts.held:
        raise TransferRefused(
            "The report is held for review: let it into the inbox (or mark it as spam) first.",
            code="transfer_not_allowed",
        )
