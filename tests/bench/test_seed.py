"""The benchmarks' bulk loader (bench/seed.py) writes rows the application reads as its own: the inbox shows a
seeded report's decrypted title, a worker pass at the seeding moment has nothing due, a seeded advisory answers
the OSV query; and a second seeding of the same size is restored from the cache instead of loaded again."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from django.test import Client

from bench import seed
from embargo.accounts.models import User
from embargo.notifications.worker import run_pass
from embargo.reports.models import Report


@pytest.mark.django_db
def test_the_inbox_shows_a_seeded_reports_decrypted_title() -> None:
    seeded = seed.load(60, 3, "test")

    # The sealed title opens with the project's data key (Report.title unseals it).
    report = Report.objects.select_related("data_key").get(public_id=seeded.report_id)
    assert report.title == seeded.title
    assert Report.objects.count() == 60
    client = Client()
    client.force_login(User.objects.get(email=seeded.member_email))
    page = client.get(f"/projects/{seeded.slug}/inbox/")
    assert page.status_code == 200
    assert seeded.title in page.content.decode()


@pytest.mark.django_db
def test_an_idle_pass_at_the_seeding_moment_has_nothing_due() -> None:
    # Guards the clocks the loader computes: a reminder due at the seeding moment would make the idle
    # benchmark measure work.
    seeded = seed.load(60, 3, "test")
    moment = dt.datetime.fromisoformat(seeded.seeded_at)
    assert Report.objects.filter(next_reminder_at__isnull=False).exists()
    result = run_pass(now=moment, run_jobs=False)
    assert (result.reminders, result.claimed) == (0, 0)
    # ...while the same reports do fall due later: the moments are real clocks, not "never".
    assert run_pass(now=moment + dt.timedelta(days=30), run_jobs=False).reminders > 0


@pytest.mark.django_db
def test_a_seeded_advisory_answers_the_osv_query() -> None:
    seeded = seed.load_advisories(30)
    ecosystem, name = seeded["package"]
    body = {"package": {"ecosystem": ecosystem, "name": name}, "version": seeded["version"]}
    answer = Client().post("/osv/v1/query", json.dumps(body), content_type="application/json")
    assert answer.status_code == 200
    assert len(answer.json()["vulns"]) == seeded["matches"] == 1


def _count_reports(env: dict[str, str]) -> int:
    from bench.common import django_shell

    out = django_shell(env, "from embargo.reports.models import Report; print('N', Report.objects.count())")
    return int(out.split("N", 1)[1].split()[0])


@pytest.mark.e2e
def test_a_second_seeding_is_restored_from_the_cache(tmp_path: Path) -> None:
    from bench.common import Context, drop_databases, instance

    server = os.environ.get("EMBARGO_DATABASE_URL")
    ctx = Context(
        db="postgres" if server else "sqlite",
        small=True,
        work=tmp_path / "work",
        cache=tmp_path / "cache",
        database_url=server.rsplit("/", 1)[0] + "/postgres" if server else None,
    )
    try:
        first = seed.seed(ctx, "small", instance(ctx, "seed-test-a"))
        assert not first.cached
        env = instance(ctx, "seed-test-b")
        second = seed.seed(ctx, "small", env)
        assert second.cached
        assert (second.report_id, second.seeded_at) == (first.report_id, first.seeded_at)
        # The restored instance holds the data set (database and key ring), not an empty database.
        assert _count_reports(env) == seed.SIZES["small"][0]
        assert seed.login(env)["cookie"].startswith("sessionid=")
    finally:
        drop_databases(ctx)
