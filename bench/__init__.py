"""Embargo's benchmarks: `python -m bench.run` (or `make bench`) prints one table and writes bench/RESULTS.md.

Each benchmark is a module `bench/<name>.py` with `TITLE: str` and `run(ctx: Context) -> list[Figure]`; the
shared machinery (instances, servers, load, PostgreSQL) is in `bench/common.py`.
"""
