"""The harness's own arithmetic, without processes: wrk's output read right (errors counted, units converted) and
RESULTS.md keeping the figures of the benchmarks a partial run (`--only`) did not run."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from bench.common import Context, Figure, parse_wrk, percentile

from bench import run

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/api/v1/projects/intake/reports
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.12ms    1.03ms  25.06ms   90.12%
    Req/Sec   970.25     40.11     1.02k    71.00%
  Latency Distribution
     50%    3.95ms
     75%    4.40ms
     90%    5.10ms
     99%    1.20s
  9705 requests in 10.00s, 3.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:    970.41
Transfer/sec:    317.46KB
"""


def test_wrk_figures_convert_units_and_count_every_kind_of_error() -> None:
    figures = parse_wrk(WRK_OUTPUT)
    assert figures == {"rps": 970.41, "p50_ms": 3.95, "p99_ms": 1200.0, "requests": 9705.0, "errors": 8.0}


def test_wrk_output_without_figures_is_refused() -> None:
    with pytest.raises(ValueError, match="unexpected wrk output"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_percentiles_by_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) == 0.0


def test_a_partial_run_keeps_the_other_benchmarks_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "RESULTS", tmp_path / "RESULTS.md")
    ctx = Context(work=tmp_path)
    first = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    run.write_results(
        ctx,
        [Figure("intake", "intake", 900.0, "req/s"), Figure("mail", "latency p99", 1500.0, "ms", "≤ 2,000 ms", True)],
        ["make bench"],
        first,
    )
    run.write_results(ctx, [Figure("intake", "intake", 950.0, "req/s")], ["make bench"], first + dt.timedelta(days=1))
    text = (tmp_path / "RESULTS.md").read_text()
    assert "| intake | intake | 950 req/s |" in text
    assert "900 req/s" not in text  # replaced, not kept beside the new figure
    assert "| mail | latency p99 | 1,500 ms | ≤ 2,000 ms | yes |" in text
    assert "Kept from earlier runs: mail (2026-12-01 09:00 UTC)" in text
    assert text.count("<!-- db:sqlite -->") == 1


def test_a_benchmark_that_fails_gives_a_row_saying_why(tmp_path: Path) -> None:
    class Broken:
        TITLE = "broken"

        @staticmethod
        def run(ctx: Context) -> list[Figure]:
            raise RuntimeError("the server did not start")

    (figure,) = run.run_one(Context(work=tmp_path), "broken", Broken)  # type: ignore[arg-type]
    assert figure.measure == "did not run"
    assert figure.met is False
    assert math.isnan(figure.value)
    assert "the server did not start" in figure.note
