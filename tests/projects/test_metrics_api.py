import datetime as dt

import pytest

from embargo import clock
from tests.helpers import Api, submit

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)


def test_metrics_show_whether_the_policy_was_kept(team: dict[str, Api]) -> None:
    for hours in (2, 10, 30):
        clock.freeze(T0)
        rid = submit(team["reporter"])["id"]
        clock.freeze(T0 + dt.timedelta(hours=hours))
        team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "acknowledged", "comment": "Seen."})
    clock.freeze(T0)
    submit(team["reporter"])  # never answered
    clock.freeze(T0 + dt.timedelta(days=3))
    metrics = team["owner"].get("/api/v1/projects/requests/metrics").json
    assert metrics["reports"] == 4
    assert metrics["answered"] == 3
    assert metrics["response_hours_median"] == 10.0
    assert metrics["within_target_share"] == 0.5  # 2 of 4 (the unanswered one is past its target)
    assert metrics["within_limit_share"] == 0.75
    assert metrics["open"] == 4
    assert metrics["overdue"] == 1  # the unanswered one is past its 48 h limit
    assert (metrics["response_target_hours"], metrics["response_limit_hours"]) == (12, 48)


def test_the_period_is_validated(team: dict[str, Api]) -> None:
    bad = team["owner"].get("/api/v1/projects/requests/metrics?since=2026-12-01T00:00:00Z&until=2026-11-01T00:00:00Z")
    assert (bad.status, bad.json["error"]["field"]) == (422, "since")
    naive = team["owner"].get("/api/v1/projects/requests/metrics?since=2026-01-01T00:00:00")
    assert (naive.status, naive.json["error"]["field"]) == (422, "since")
    garbage = team["owner"].get("/api/v1/projects/requests/metrics?until=yesterday")
    assert (garbage.status, garbage.json["error"]["field"]) == (422, "until")


def test_the_dashboard_draws_the_chart(team: dict[str, Api]) -> None:
    from django.test import Client

    from embargo.accounts.models import User

    clock.freeze(T0)
    rid = submit(team["reporter"])["id"]
    clock.freeze(T0 + dt.timedelta(hours=5))
    team["maintainer"].post(f"/api/v1/reports/{rid}/transitions", {"to": "acknowledged", "comment": "Seen."})
    client = Client()
    client.force_login(User.objects.get(email="owner@example.org"))
    page = client.get("/projects/requests/dashboard/").content.decode()
    assert "<svg" in page
    assert f"{rid}: answered in 5.0 h" in page
    assert "target 12 h" in page
