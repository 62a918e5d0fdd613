"""Key rotation: a new key-encryption key (KEK) becomes current and every data key is re-wrapped with it.

Only the data keys change (a few dozen bytes each); the sealed fields and files they protect are not touched,
which is the point of envelope encryption. The work goes in batches, each in its own transaction, so that an
interrupted rotation leaves every data key wrapped by one KEK or the other, both still in the ring: running
`embargo keys rotate` again continues with the data keys still wrapped by an old KEK instead of starting over.
An old KEK stays in the ring until no data key uses it; `embargo keys retire` then removes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from embargo.audit.actions import record_event
from embargo.audit.tags import Tag
from embargo.vault import keys
from embargo.vault.models import DataKey

Progress = Callable[[int, int], None]


@dataclass
class RotationResult:
    current_kek: str
    new_kek: bool  # False when this run continued an interrupted rotation
    rewrapped: int
    remaining: int  # data keys still wrapped by an old KEK (0 unless stopped early)
    retirable: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.remaining == 0


def outdated() -> int:
    """How many data keys are wrapped by a KEK other than the current one."""
    return DataKey.objects.exclude(kek_id=keys.ring().current_id).count()


def retirable() -> list[str]:
    """The KEKs of the ring that are not current and that no data key uses any more."""
    ring = keys.ring()
    used = set(DataKey.objects.values_list("kek_id", flat=True).distinct())
    return sorted(set(ring.keys) - used - {ring.current_id})


def rotate(
    *, batch_size: int = 500, max_batches: int | None = None, progress: Progress | None = None
) -> RotationResult:
    """Re-wraps every data key with the current KEK, after making a new one current unless a previous rotation
    was interrupted (some data keys still use an old KEK). `max_batches` stops early (for tests and for an
    operator who wants to spread the work); `progress(done, total)` is called after each batch."""
    if batch_size < 1:
        raise ValueError("the batch size is at least 1")
    new_kek = False
    if not DataKey.objects.exclude(kek_id=keys.ring().current_id).exists():
        keys.add_current_key()
        new_kek = True
    ring = keys.ring()
    total = DataKey.objects.exclude(kek_id=ring.current_id).count()
    done = batches = 0
    last_pk = 0
    if progress:
        progress(0, total)
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            # In primary-key order from where the last batch ended: data keys made meanwhile by a process that
            # had not yet seen the new ring have higher keys and are caught too.
            rows = list(
                DataKey.objects.select_for_update()
                .exclude(kek_id=ring.current_id)
                .filter(pk__gt=last_pk)
                .order_by("pk")[:batch_size]
            )
            if not rows:
                break
            for row in rows:
                row.kek_id, row.wrapped = ring.wrap(ring.unwrap(row.kek_id, bytes(row.wrapped)))
            DataKey.objects.bulk_update(rows, ["kek_id", "wrapped"])
        last_pk = rows[-1].pk
        done += len(rows)
        batches += 1
        if progress:
            progress(done, max(total, done))
    remaining = DataKey.objects.exclude(kek_id=ring.current_id).count()
    if new_kek or done:
        with transaction.atomic():
            record_event(
                Tag.KEYS_ROTATED, actor=None,
                data={"current_kek": ring.current_id, "new_kek": new_kek, "rewrapped": done, "remaining": remaining},
            )  # fmt: skip
    return RotationResult(
        current_kek=ring.current_id,
        new_kek=new_kek,
        rewrapped=done,
        remaining=remaining,
        retirable=retirable() if remaining == 0 else [],
    )


def retire() -> list[str]:
    """Removes from the ring the old KEKs that no data key uses; returns their IDs."""
    unused = retirable()
    if unused:
        keys.remove_keys(set(unused))
        with transaction.atomic():
            record_event(Tag.KEYS_RETIRED, actor=None, data={"retired": unused})
    return unused
