"""`embargo advisory import` as an operator runs it: a folder of OSV records, twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Instance
from tests.formats.test_exports import GHSA_RECORD

pytestmark = pytest.mark.e2e


def test_importing_a_folder_twice_changes_nothing(instance: Instance, tmp_path: Path) -> None:
    folder = tmp_path / "osv"
    (folder / "nested").mkdir(parents=True)
    (folder / "nested" / f"{GHSA_RECORD['id']}.json").write_text(json.dumps(GHSA_RECORD))
    (folder / "broken.json").write_text('{"id": "GHSA-oops", ')
    instance.run("migrate")
    instance.run("project", "create", "quickhttp", "--name", "quickhttp")
    first = json.loads(instance.run("advisory", "import", "quickhttp", str(folder), "--json").stdout)
    assert first["imported"] == [GHSA_RECORD["id"]]
    assert [r["file"] for r in first["rejected"]] == ["broken.json"]
    second = json.loads(instance.run("advisory", "import", "quickhttp", str(folder), "--json").stdout)
    assert (second["imported"], second["already_present"]) == ([], [GHSA_RECORD["id"]])
    text = instance.run("advisory", "import", "quickhttp", str(folder)).stdout
    assert "imported 0, already present 1, rejected 1" in text
    instance.run("advisory", "import", "nosuch", str(folder), expect=1)
