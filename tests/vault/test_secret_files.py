"""The instance's secret files (the signing key, the key-encryption keys) are created on first use by whichever
process needs them first. Web workers start together on a new data dir: none may ever read a half-written file
(a key ring that "holds no key" failed report intake once, in a benchmark's first second)."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from embargo import config
from embargo.vault import keys


def _race(path: Path, contenders: int = 8) -> list[str]:
    barrier = threading.Barrier(contenders)
    values: list[str] = []
    errors: list[BaseException] = []

    def contend() -> None:
        barrier.wait()
        try:
            values.append(keys.parse(config.read_or_create_secret(path, keys.new_key_line), path).current_id)
        except BaseException as exc:  # noqa: BLE001 (collected, then asserted on)
            errors.append(exc)

    threads = [threading.Thread(target=contend) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return values


def test_processes_creating_the_key_ring_at_once_all_read_the_one_that_won(tmp_path: Path) -> None:
    for round_number in range(40):
        path = tmp_path / str(round_number) / "keys" / "kek"
        values = _race(path)
        assert len(values) == 8
        assert len(set(values)) == 1, values
        assert keys.parse(path.read_text(), path).current_id == values[0]


def test_a_created_secret_is_private_and_leaves_no_draft_behind(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    value = config.read_or_create_secret(path)
    assert len(value) > 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
    # Read again, the same value; a file that exists is never replaced.
    assert config.read_or_create_secret(path, lambda: "other") == value
