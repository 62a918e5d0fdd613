"""The tamper-evident audit log: real actions build the chains; edits behind Embargo's back are found by
`embargo audit verify`, which names the first broken link."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from django.db import connection

from embargo import cli, clock
from embargo.audit import chain
from embargo.audit.models import Checkpoint, Event
from embargo.domain.audit_chain import GENESIS
from embargo.notifications import worker
from embargo.reports.models import Report
from tests.helpers import Api, submit

pytestmark = pytest.mark.django_db


def busy_report(team: dict[str, Api]) -> Report:
    report_id = submit(team["reporter"])["id"]
    for body in ("Thanks, looking.", "Reproduced."):
        posted = team["maintainer"].post(f"/api/v1/reports/{report_id}/messages", {"body": body})
        assert posted.status == 201, posted.text
    return Report.objects.get(public_id=report_id)


def run_verify(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = cli.main(["audit", "verify", *extra])
    return code, capsys.readouterr().out


def raw_sql(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_real_actions_chain_a_reports_events_in_order(team: dict[str, Api]) -> None:
    report = busy_report(team)
    events = list(Event.objects.filter(report=report).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) >= 3
    assert {e.chain for e in events} == {f"report:{report.pk}"}
    assert events[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    project_events = Event.objects.filter(report=None, project__isnull=False)
    assert project_events.exists()
    assert all(e.chain.startswith("project:") for e in project_events)


def test_an_intact_log_verifies_with_exit_0(team: dict[str, Api], capsys: pytest.CaptureFixture[str]) -> None:
    busy_report(team)
    assert cli.main(["audit", "checkpoint"]) == 0
    capsys.readouterr()
    code, out = run_verify(capsys, "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["intact"] is True
    assert result["broken"] is None
    assert result["events"] == Event.objects.count()
    assert result["checkpoints"] == 1


def test_an_event_edited_behind_embargos_back_is_named(
    team: dict[str, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    report = busy_report(team)
    target = Event.objects.filter(report=report, tag="message:posted").order_by("seq").last()
    assert target is not None
    raw_sql("UPDATE audit_event SET actor_id = NULL WHERE id = %s", [target.pk])
    code, out = run_verify(capsys)
    assert code == 1
    assert out.startswith(f"report {report.public_id}: event {target.seq} (id {target.pk}, message:posted) broken")
    computed = chain.event_fields(Event.objects.get(pk=target.pk))
    assert f"stored hash {target.hash}, computed " in out
    assert target.hash not in out.split("computed ")[1]
    assert computed["actor"] is None


def test_a_deleted_event_is_named(team: dict[str, Api], capsys: pytest.CaptureFixture[str]) -> None:
    report = busy_report(team)
    second = Event.objects.get(report=report, seq=2)
    raw_sql("DELETE FROM audit_event WHERE id = %s", [second.pk])
    code, out = run_verify(capsys)
    assert code == 1
    assert f"report {report.public_id}: event 2" in out
    assert "missing" in out


def test_a_truncated_chain_breaks_the_checkpoint_that_pinned_it(
    team: dict[str, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    report = busy_report(team)
    assert cli.main(["audit", "checkpoint"]) == 0
    capsys.readouterr()
    last = Event.objects.filter(report=report).order_by("seq").last()
    assert last is not None
    raw_sql("DELETE FROM audit_event WHERE id = %s", [last.pk])  # the chain itself still looks whole
    code, out = run_verify(capsys)
    assert code == 1
    assert out.startswith("checkpoint 1 broken: pinned head report:")
    assert "no longer in its chain" in out


def test_a_checkpoint_edited_behind_embargos_back_is_named(
    team: dict[str, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    busy_report(team)
    first = chain.write_checkpoint()
    busy_report(team)
    chain.write_checkpoint()
    raw_sql("UPDATE audit_checkpoint SET heads = %s WHERE id = %s", ["[]", first.pk])
    code, out = run_verify(capsys)
    assert code == 1
    assert out.startswith(f"checkpoint 1 broken: hash mismatch: stored hash {first.hash}, computed ")


def test_each_checkpoint_pins_only_the_chains_that_moved(team: dict[str, Api]) -> None:
    a = busy_report(team)
    first = chain.write_checkpoint()
    assert f"report:{a.pk}" in {c for c, _, _ in first.heads}
    b = busy_report(team)
    second = chain.write_checkpoint()
    moved = {c for c, _, _ in second.heads}
    assert f"report:{b.pk}" in moved
    assert f"report:{a.pk}" not in moved
    assert second.prev_hash == first.hash


def test_the_worker_writes_a_checkpoint_when_one_is_due(team: dict[str, Api], settings) -> None:
    settings.EMBARGO_SMTP_URL = ""
    settings.EMBARGO_AUDIT_CHECKPOINT_MINUTES = 60
    moment = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    clock.freeze(moment)
    busy_report(team)
    worker.run_pass(moment)
    assert Checkpoint.objects.count() == 1
    worker.run_pass(moment + dt.timedelta(minutes=30))
    assert Checkpoint.objects.count() == 1  # not due yet
    worker.run_pass(moment + dt.timedelta(minutes=61))
    assert Checkpoint.objects.count() == 2


def test_the_migration_chains_events_recorded_before_the_chains(team: dict[str, Api]) -> None:
    import importlib

    from django.apps import apps

    report = busy_report(team)
    expected = list(Event.objects.order_by("id").values_list("chain", "seq", "prev_hash", "hash"))
    for pk in Event.objects.values_list("pk", flat=True):  # as before 0002 (each its own chain for the constraint)
        Event.objects.filter(pk=pk).update(chain=f"before-{pk}", seq=0, prev_hash="", hash="")
    migration = importlib.import_module("embargo.audit.migrations.0002_chain")
    migration.chain_existing_events(apps, None)
    assert list(Event.objects.order_by("id").values_list("chain", "seq", "prev_hash", "hash")) == expected
    assert Event.objects.filter(report=report).count() >= 3
