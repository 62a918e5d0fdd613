"""The floor of the stack: what the same gunicorn server, Django middleware and database give for a trivial view
(`GET /bench/ok`) and for a view doing one INSERT (`POST /bench/insert`), measured in the same run as what is
compared with them (bench/intake.py). The views are in bench/urls.py, served with bench/settings.py."""

from __future__ import annotations

from pathlib import Path

from bench.common import lua_post, wrk

# Run inside the instance before the server starts (with bench.common.make_project's extra_code, or django_shell).
CREATE_TABLE = """
from django.db import connection
key = "bigserial PRIMARY KEY" if connection.vendor == "postgresql" else "integer PRIMARY KEY AUTOINCREMENT"
with connection.cursor() as cursor:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS bench_floor_row (id {key}, created_at text NOT NULL, body text NOT NULL)"
    )
    cursor.execute("SELECT count(*) FROM bench_floor_row")
    print(cursor.fetchone()[0])
"""


def measure_ok(base: str, duration: float, connections: int = 4) -> dict[str, float]:
    return wrk(base + "/bench/ok", duration, connections)


def measure_insert(base: str, work: Path, duration: float, connections: int = 4) -> dict[str, float]:
    script = lua_post(work / "floor-insert.lua", {"note": "floor {n}", "padding": "x" * 200})
    return wrk(base + "/bench/insert", duration, connections, script=script)
