"""A bulk loader that fills an Embargo instance with many reports over many projects, for the inbox, idle-worker
and OSV benchmarks; its result is cached between runs.

Sizes (`SIZES`): every project holds ~100 reports, so the benchmarked project's inbox page is the same page at
each size and only the rest of the database grows.

What it writes, per project: the project, its policy (the reference policy), an owner and a maintainer, one data
key (the reports of a project share it: the model allows a data key per record, not one to itself) and a pool of
pre-sealed texts (sealing is bound to the data key and the field, not to the row, so a sealed title may serve
several reports of the project). Per report: every column, with the clocks' moments computed by the domain
(`embargo.domain.clocks`, `embargo.domain.reminders`) at the seeding moment, so that a worker pass at that moment
has nothing due; the states are a mix of the open ones and a few rejected. Reporters: one account per ~10 reports.
No audit events: neither the inbox nor an idle pass reads them. Published advisories (`seed_advisories`) are written
with their sealed OSV draft and, when advisories/models.py has it, the package index rows that the OSV query reads.

PostgreSQL: COPY (psycopg's `cursor.copy`). SQLite: executemany in large transactions.

Run inside an instance (`python -m bench.seed load|advisories|login`), or through `seed()` / `login()`.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LENGTH = 20  # embargo.ids.LENGTH
MIGRATIONS = ROOT / "src" / "embargo"
# (reports, projects): ~100 reports in each project.
SIZES: dict[str, tuple[int, int]] = {
    "small": (300, 10),
    "10k": (10_000, 100),
    "1m": (1_000_000, 10_000),
}
REPORTS_PER_REPORTER = 10
POOL = 8  # pre-sealed texts per project and field
CHUNK = 20_000  # rows per COPY or executemany batch
BENCH_SLUG = "bench-0000"  # the benchmarked project (the first one)
MEMBER_EMAIL = "member-0000@bench.example"
# The mix of states, with their weights.
STATES: list[tuple[str, int]] = [
    ("received", 30),
    ("acknowledged", 25),
    ("needs_info", 10),
    ("confirmed", 25),
    ("fix_ready", 7),
    ("rejected", 3),
]
TITLES = [
    "SQL injection in the search filter",
    "Path traversal when extracting archives",
    "Cross-site scripting in the error page",
    "Denial of service with deeply nested JSON",
    "Certificate hostname not checked on redirect",
    "Heap overflow in the header parser",
    "Open redirect after login",
    "Timing leak in token comparison",
]


@dataclass
class Seeded:
    """What a benchmark needs to know about a seeded instance."""

    size: str
    reports: int
    projects: int
    slug: str
    member_email: str
    report_id: str  # a report of the benchmarked project
    title: str  # its title, in clear
    seeded_at: str  # ISO moment the clocks were computed at: an idle pass at this moment has nothing due
    seconds: float  # how long seeding took (when it was made, not when restored)
    cached: bool = False  # restored from the cache rather than seeded in this run


# --- cache ---------------------------------------------------------------------------------------------


def migration_state() -> str:
    """A digest of every migration file: a new migration changes the schema, and so the cache key."""
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(MIGRATIONS)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir(cache: Path, size: str, db: str, what: str = "reports") -> Path:
    return cache / "seed" / f"{what}-{size}-{db}-{migration_state()}"


def _pg_tool(name: str) -> str:
    from bench.common import pg_bin

    try:
        return str(pg_bin() / name)
    except RuntimeError:
        found = shutil.which(name)
        if not found:
            raise
        return found


def _run(argv: Sequence[str], env: Mapping[str, str] | None = None, *, capture: bool = True) -> str:
    result = subprocess.run(
        list(argv), env=dict(env) if env is not None else None, cwd=ROOT, check=False, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE if capture else None,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}… exited {result.returncode}\n{result.stdout}{result.stderr or ''}")
    return result.stdout


def _save(env: Mapping[str, str], target: Path, seeded: dict[str, Any]) -> None:
    """Stores the instance: its data dir (key ring, SQLite database) and, on PostgreSQL, a pg_dump -Fc file."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    data = Path(env["EMBARGO_DATA_DIR"])
    url = env.get("EMBARGO_DATABASE_URL")
    if not url:  # a consistent copy of the SQLite database: its WAL folded in first
        import sqlite3

        with sqlite3.connect(data / "embargo.sqlite3") as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copytree(data, partial / "data", ignore=shutil.ignore_patterns("*.log", "*-wal", "*-shm"))
    if url:
        _run([_pg_tool("pg_dump"), "-Fc", "-Z1", "-f", str(partial / "db.dump"), url])
    (partial / "seeded.json").write_text(json.dumps(seeded, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    # The same data set made under an older migration state can never be used again (a 1M SQLite copy is ~1 GB).
    stem = target.name.rsplit("-", 1)[0]
    for stale in target.parent.glob(stem + "-*"):
        if stale != target and stale.name.rsplit("-", 1)[0] == stem:
            shutil.rmtree(stale, ignore_errors=True)


def _restore(env: Mapping[str, str], source: Path) -> dict[str, Any]:
    data = Path(env["EMBARGO_DATA_DIR"])
    shutil.copytree(source / "data", data, dirs_exist_ok=True)
    url = env.get("EMBARGO_DATABASE_URL")
    if url:
        _run([_pg_tool("pg_restore"), "--no-owner", "-j", "2", "-d", url, str(source / "db.dump")])
        _run([_pg_tool("psql"), "-q", "-c", "ANALYZE", url])
    return dict(json.loads((source / "seeded.json").read_text()))


def _python(env: Mapping[str, str], *args: str) -> str:
    """`python -m bench.seed ARGS` in the instance; progress goes to our standard error."""
    return _run([sys.executable, "-m", "bench.seed", *args], env, capture=False)


def seed(ctx: Any, size: str, env: Mapping[str, str]) -> Seeded:
    """Fills the (migrated, empty) instance of `env` with the `size` data set, from the cache when it holds it
    (keyed by size, database engine and migration state), else by loading and then caching it."""
    from bench.common import embargo

    target = cache_dir(Path(ctx.cache), size, ctx.db)
    if (target / "seeded.json").exists():
        ctx.say(f"seed {size}: restoring from {target}")
        found = Seeded(**_restore(env, target))
        found.cached = True
        return found
    embargo(env, "migrate")
    reports, projects = SIZES[size]
    ctx.say(f"seed {size}: {reports} reports over {projects} projects")
    out = _python(env, "load", "--reports", str(reports), "--projects", str(projects), "--size", size)
    seeded = json.loads(out.strip().splitlines()[-1])
    _save(env, target, seeded)
    return Seeded(**seeded)


_PREPARED: dict[tuple[str, str], tuple[dict[str, str], Seeded]] = {}


def prepared(ctx: Any, size: str) -> tuple[dict[str, str], Seeded]:
    """The instance holding the `size` data set for this run, seeded (or restored) once and shared by the
    benchmarks that only read it (inbox, idle worker pass)."""
    from bench.common import instance

    key = (str(ctx.work), size)
    if key not in _PREPARED:
        env = instance(ctx, f"seed-{size}")
        _PREPARED[key] = (env, seed(ctx, size, env))
    return _PREPARED[key]


def sizes(ctx: Any) -> list[str]:
    """The data sets to measure: `small` for a smoke run, else 10k and 1m (EMBARGO_BENCH_SIZES=10k,1m narrows)."""
    if ctx.small:
        return ["small"]
    wanted = [s.strip() for s in os.environ.get("EMBARGO_BENCH_SIZES", "10k,1m").split(",") if s.strip()]
    unknown = set(wanted) - set(SIZES)
    if unknown:
        raise ValueError(f"EMBARGO_BENCH_SIZES: unknown sizes {sorted(unknown)} (known: {', '.join(SIZES)})")
    return wanted


def seed_advisories(ctx: Any, count: int, env: Mapping[str, str]) -> dict[str, Any]:
    """Fills the instance with `count` published advisories (cached like `seed`); returns what was seeded:
    {"count", "seconds", "package": [ecosystem, name], "version", "matches", "cached"}."""
    from bench.common import embargo

    size = str(count)
    target = cache_dir(Path(ctx.cache), size, ctx.db, "advisories")
    if (target / "seeded.json").exists():
        ctx.say(f"seed {count} advisories: restoring from {target}")
        return {**_restore(env, target), "cached": True}
    embargo(env, "migrate")
    ctx.say(f"seed {count} published advisories")
    seeded = json.loads(_python(env, "advisories", "--count", str(count)).strip().splitlines()[-1])
    _save(env, target, seeded)
    return {**seeded, "cached": False}


def login(env: Mapping[str, str], email: str = MEMBER_EMAIL) -> dict[str, str]:
    """A signed-in browser session (second factor passed) and an API token of `email`: {"cookie", "token"}.
    Made at benchmark time, as sessions expire after EMBARGO_SESSION_IDLE_MINUTES."""
    return dict(json.loads(_python(env, "login", "--email", email).strip().splitlines()[-1]))


# --- the loader (runs inside the instance) ------------------------------------------------------------


class Writer:
    """Bulk inserts of rows given as {column: value}: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.postgres = connection.vendor == "postgresql"

    def next_id(self, model: Any) -> int:
        from django.db.models import Max

        return int(model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def columns(self, model: Any) -> list[tuple[str, Any]]:
        """(column, field) of the model's concrete fields, in order."""
        return [(f.column, f) for f in model._meta.concrete_fields]

    def insert(self, model: Any, rows: Iterable[dict[str, Any]], progress: Any = None) -> int:
        from django.db import transaction

        columns = self.columns(model)
        # Each default once (a callable default such as a public ID generator must be given by the caller).
        defaults = {c: f.get_default() for c, f in columns}
        names = [c for c, _ in columns]
        table = model._meta.db_table
        adapters = {c: self._adapter(f) for c, f in columns}
        done = 0
        batch: list[tuple[Any, ...]] = []

        def flush() -> None:
            nonlocal batch
            if not batch:
                return
            with transaction.atomic():
                self._write(table, names, batch)
            if progress is not None:
                progress.advance(len(batch))
            batch = []

        for row in rows:
            values = []
            for column in names:
                value = row.get(column, defaults[column])
                adapt = adapters[column]
                values.append(adapt(value) if adapt is not None and value is not None else value)
            batch.append(tuple(values))
            done += 1
            if len(batch) >= CHUNK:
                flush()
        flush()
        if self.postgres:
            self._reset_sequence(model)
        return done

    def _adapter(self, field: Any) -> Any:
        """What turns a Python value into what the driver takes, where Django would have adapted it."""
        from django.db import models

        if isinstance(field, models.JSONField):
            return lambda v: json.dumps(v)
        if self.postgres:
            return None
        if isinstance(field, models.DateTimeField):
            ops = self.connection.ops
            cache: dict[dt.datetime, Any] = {}

            def adapt(v: dt.datetime) -> Any:
                if v not in cache:
                    cache[v] = ops.adapt_datetimefield_value(v)
                return cache[v]

            return adapt
        return None

    def _write(self, table: str, names: list[str], batch: list[tuple[Any, ...]]) -> None:
        quoted = ", ".join(self.connection.ops.quote_name(n) for n in names)
        with self.connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {self.connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
                    for values in batch:
                        copy.write_row(values)
            else:
                marks = ", ".join(["%s"] * len(names))
                # Table and column names come from the models, values go as parameters.
                cursor.executemany(
                    f"INSERT INTO {self.connection.ops.quote_name(table)} ({quoted}) VALUES ({marks})",  # noqa: S608
                    batch,
                )

    def _reset_sequence(self, model: Any) -> None:
        from django.core.management.color import no_style

        with self.connection.cursor() as cursor:
            for statement in self.connection.ops.sequence_reset_sql(no_style(), [model]):
                cursor.execute(statement)


def _public_id(rng: random.Random) -> str:
    """The real identifiers' shape (embargo.ids: 20 base-32 characters), from the seeded RNG so that a run is
    reproducible, and quicker than 20 calls of `secrets.choice` per row."""
    return base64.b32encode(rng.randbytes(13)).decode()[:LENGTH].lower()


def _templates(moment: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    """For each state, the stored moments of reports of several ages, computed by the domain, keeping only the
    ages at which nothing is due at `moment` (no reminder to send): an idle pass then has nothing to do."""
    from embargo.domain import clocks, reminders
    from embargo.domain.policy import REFERENCE
    from embargo.domain.workflow import State

    policy = REFERENCE
    out: dict[str, list[dict[str, Any]]] = {}
    for state, _weight in STATES:
        kept = []
        for minutes in range(5, 14 * 24 * 60, 37):
            received = moment - dt.timedelta(minutes=minutes)
            answered = received + dt.timedelta(minutes=min(minutes // 2, 60)) if state != "received" else None
            fix_ready = received + dt.timedelta(minutes=minutes * 3 // 4) if state == "fix_ready" else None
            closed = received + dt.timedelta(minutes=minutes // 2) if state == "rejected" else None
            needs_info_since = answered if state == "needs_info" else None
            times = clocks.ReportTimes(
                state=State(state), received_at=received, first_response_at=answered, fix_ready_at=fix_ready,
                confirmation_answered_at=None, notices_sent_at=None, published_at=None, closed_at=closed,
                reporter_deadline=None,
            )  # fmt: skip
            plan = reminders.due(times, policy, moment, already=set(), needs_info_since=needs_info_since)
            if plan.send or plan.pass_over:
                continue
            kept.append(
                {
                    "created_at": received,
                    "updated_at": closed or fix_ready or answered or received,
                    "first_response_at": answered,
                    "fix_ready_at": fix_ready,
                    "closed_at": closed,
                    "needs_info_since": needs_info_since,
                    "state_before_needs_info": "acknowledged" if state == "needs_info" else "",
                    "response_target_at": received + dt.timedelta(hours=policy.response_target_hours),
                    "response_due_at": received + dt.timedelta(hours=policy.response_limit_hours),
                    "fix_due_at": clocks.fix_due_at(received, policy),
                    "next_due_at": clocks.next_due_at(times, policy, moment),
                    "next_reminder_at": plan.next_at,
                }
            )
        if not kept:
            raise RuntimeError(f"no age of a {state} report has nothing due")
        out[state] = kept
    return out


def load(reports: int, projects: int, size: str) -> Seeded:
    """Writes `reports` reports over `projects` projects into the configured (migrated) database."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from django.contrib.auth.hashers import make_password

    from embargo import clock
    from embargo.accounts.models import User
    from embargo.domain.policy import REFERENCE
    from embargo.projects.models import Membership, Policy, Project, Role
    from embargo.reports.models import Report
    from embargo.vault import keys, sealing
    from embargo.vault.models import DataKey
    from embargo.vault.progress import Progress

    started = time.monotonic()
    rng = random.Random(11)  # noqa: S311 - test data, not secrets
    moment = clock.now().replace(microsecond=0)
    writer = Writer()
    templates = _templates(moment)
    states = [s for s, _ in STATES]
    weights = [w for _, w in STATES]
    ring = keys.ring()

    base_project = writer.next_id(Project)
    base_user = writer.next_id(User)
    base_key = writer.next_id(DataKey)
    base_report = writer.next_id(Report)
    unusable = make_password(None)

    # Projects, their policies and data keys, and a pool of sealed texts per project.
    plain_keys: list[bytes] = []
    key_rows, project_rows, policy_rows = [], [], []
    for p in range(projects):
        plain = AESGCM.generate_key(bit_length=256)
        kek_id, wrapped = ring.wrap(plain)
        plain_keys.append(plain)
        key_rows.append({"id": base_key + p, "kek_id": kek_id, "wrapped": wrapped, "created_at": moment})
        project_rows.append(
            {
                "id": base_project + p, "slug": f"bench-{p:04d}", "name": f"Bench project {p}",
                "repository_url": f"https://git.example/bench-{p:04d}", "package_ecosystem": "PyPI",
                "package_name": f"bench-{p:04d}", "created_at": moment - dt.timedelta(days=400),
                "team_languages": ["en"],
            }
        )  # fmt: skip
        policy_rows.append(
            {
                "id": base_project + p, "project_id": base_project + p,
                "release_weekdays": list(REFERENCE.release_weekdays),
            }
        )  # fmt: skip
    # Team: an owner and a maintainer per project; the maintainer of the first is the benchmark's member.
    reporters = max(1, reports // REPORTS_PER_REPORTER)
    team_users = 2 * projects
    total_users = team_users + reporters
    progress = Progress(f"seeding {size}", unit="rows", total=projects * 5 + total_users + reports)
    writer.insert(DataKey, key_rows, progress)
    writer.insert(Project, project_rows, progress)
    writer.insert(Policy, policy_rows, progress)

    def users() -> Iterable[dict[str, Any]]:
        for u in range(total_users):
            if u < team_users:
                role = "owner" if u % 2 == 0 else "member"
                email = f"{role}-{u // 2:04d}@bench.example"
            else:
                email = f"reporter-{u - team_users:07d}@bench.example"
            yield {
                "id": base_user + u, "public_id": _public_id(rng), "email": email, "name": email.split("@")[0],
                "password": unusable, "date_joined": moment - dt.timedelta(days=30), "email_verified_at": moment,
            }  # fmt: skip

    writer.insert(User, users(), progress)
    base_membership = writer.next_id(Membership)

    def memberships() -> Iterable[dict[str, Any]]:
        for p in range(projects):
            for offset, role in ((0, Role.OWNER), (1, Role.MAINTAINER)):
                yield {
                    "id": base_membership + 2 * p + offset, "project_id": base_project + p,
                    "user_id": base_user + 2 * p + offset, "role": str(role), "created_at": moment,
                }  # fmt: skip

    writer.insert(Membership, memberships(), progress)

    sealed_fields = ["title", "description", "affected_versions", "reproduction", "impact", "severity_proposed"]
    sample = {
        "title": TITLES,
        "description": [f"An attacker can {t.lower()} with a crafted request." for t in TITLES],
        "affected_versions": ["< 2.31.0", "all", ">= 1.0, < 1.4.2", "2.x"],
        "reproduction": ["curl -X POST http://localhost/ -d @payload.json", "python poc.py"],
        "impact": ["Remote code execution", "Information disclosure", "Denial of service"],
        "severity_proposed": ["high", "medium", "critical", "low"],
    }

    def pool(p: int) -> dict[str, list[tuple[str, bytes]]]:
        key = DataKey(id=base_key + p, kek_id="", wrapped=b"")
        key._plain = plain_keys[p]  # type: ignore[attr-defined]
        out: dict[str, list[tuple[str, bytes]]] = {}
        for name in sealed_fields:
            context = f"reports.report.{name}"
            texts = sample[name]
            out[name] = []
            for i in range(POOL):
                text = texts[(p + i) % len(texts)] + (f" ({i})" if name == "title" else "")
                out[name].append((text, sealing.seal(key, text.encode(), context)))
        return out

    per_project = max(1, reports // projects)
    first: dict[str, str] = {}

    def report_rows() -> Iterable[dict[str, Any]]:
        n = 0
        for p in range(projects):
            texts = pool(p)
            count = per_project if p < projects - 1 else reports - n
            members = (base_user + 2 * p, base_user + 2 * p + 1, None)
            for _ in range(count):
                state = rng.choices(states, weights)[0]
                clocks_of = rng.choice(templates[state])
                pick = rng.randrange(POOL)
                row = {
                    "id": base_report + n, "data_key_id": base_key + p, "public_id": _public_id(rng),
                    "project_id": base_project + p,
                    "reporter_id": base_user + team_users + rng.randrange(reporters),
                    "state": state, "assignee_id": members[n % 3] if state != "received" else None,
                    "link_version": 1, "language": "en", "language_confidence": 0.99, "language_source": "detected",
                    "needs_info_seconds": 0, "credit_consent": False, **clocks_of,
                }  # fmt: skip
                for name in sealed_fields:
                    row[name] = texts[name][pick][1]
                if not first and p == 0 and state != "rejected":
                    first.update(report_id=row["public_id"], title=texts["title"][pick][0])
                n += 1
                yield row

    writer.insert(Report, report_rows(), progress)
    progress.close()
    with writer.connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Seeded(
        size=size, reports=reports, projects=projects, slug=BENCH_SLUG, member_email=MEMBER_EMAIL,
        report_id=first["report_id"], title=first["title"], seeded_at=moment.isoformat(),
        seconds=round(time.monotonic() - started, 1),
    )  # fmt: skip


# --- advisories ----------------------------------------------------------------------------------------


ADVISORIES_PER_PACKAGE = 10


def load_advisories(count: int) -> dict[str, Any]:
    """Writes `count` published advisories, ten per project and PyPI package (advisory k of a package affects
    versions k.0.0 to k.0.5), each with its sealed draft and, as publication writes them (advisories/index.py),
    its public OSV record and package index row. The record text is the real export of the advisory."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from embargo import clock
    from embargo.advisories import records
    from embargo.advisories.models import Advisory, AdvisorySequence, AdvisoryState
    from embargo.domain import osv_match
    from embargo.projects.models import Policy, Project
    from embargo.vault import keys, sealing
    from embargo.vault.models import DataKey
    from embargo.vault.progress import Progress

    try:
        from embargo.advisories.models import PublishedPackage, PublishedRecord
    except ImportError:  # before the package index: public.query() unseals the drafts themselves
        PublishedPackage = PublishedRecord = None  # type: ignore[assignment,misc]

    started = time.monotonic()
    moment = clock.now().replace(microsecond=0)
    writer = Writer()
    ring = keys.ring()
    projects = max(1, -(-count // ADVISORIES_PER_PACKAGE))
    base_project, base_key, base_advisory = writer.next_id(Project), writer.next_id(DataKey), writer.next_id(Advisory)
    base_package = writer.next_id(PublishedPackage) if PublishedPackage is not None else 0
    steps = 2 + (2 if PublishedRecord is not None else 0)
    progress = Progress(f"seeding {count} advisories", unit="rows", total=projects * 3 + count * steps)
    plain_keys = [AESGCM.generate_key(bit_length=256) for _ in range(projects)]
    key_rows = []
    for p, plain in enumerate(plain_keys):
        kek_id, wrapped = ring.wrap(plain)
        key_rows.append({"id": base_key + p, "kek_id": kek_id, "wrapped": wrapped, "created_at": moment})
    writer.insert(DataKey, key_rows, progress)
    project_objects = [
        Project(
            id=base_project + p,
            slug=f"osv-{p:05d}",
            name=f"OSV project {p}",
            package_ecosystem="PyPI",
            package_name=f"osv-pkg-{p:05d}",
            repository_url=f"https://git.example/osv-{p:05d}",
            created_at=moment,
        )
        for p in range(projects)
    ]
    writer.insert(Project, ({str(f.column): getattr(o, f.attname) for f in Project._meta.concrete_fields}
                            for o in project_objects), progress)  # fmt: skip
    writer.insert(Policy, ({"id": base_project + p, "project_id": base_project + p, "release_weekdays": []}
                           for p in range(projects)), progress)  # fmt: skip
    year = moment.year
    advisory_rows: list[dict[str, Any]] = []
    record_rows: list[dict[str, Any]] = []
    package_rows: list[dict[str, Any]] = []
    for i in range(count):
        p, k = divmod(i, ADVISORIES_PER_PACKAGE)
        key = DataKey(id=base_key + p, kek_id="", wrapped=b"")
        key._plain = plain_keys[p]  # type: ignore[attr-defined]
        draft = json.dumps(
            {
                "summary": f"{TITLES[i % len(TITLES)]} in osv-pkg-{p:05d}",
                "details": f"Versions {k}.0.0 up to {k}.0.5 are affected. An attacker can exploit it remotely.",
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
                "cwe_ids": ["CWE-200"],
                "affected": [
                    {"ecosystem": "PyPI", "package": f"osv-pkg-{p:05d}",
                     "ranges": [{"introduced": f"{k}.0.0", "fixed": f"{k}.0.5"}]}
                ],
                "references": [{"type": "WEB", "url": f"https://git.example/osv-{p:05d}/security/{k}"}],
                "credits": [{"name": "Example Security Team", "type": "COORDINATOR"}],
            }
        )  # fmt: skip
        published = moment - dt.timedelta(minutes=count - i)
        advisory = Advisory(
            id=base_advisory + i, readable_id=f"EMB-{year}-{i + 1:06d}", project=project_objects[p], report=None,
            draft=draft, aliases=[], state=AdvisoryState.PUBLISHED, imported=False, created_at=published,
            updated_at=published, published_at=published, revision=1, revisions=[], data_key=key,
        )  # fmt: skip
        text = records.export(advisory, "osv")
        advisory_rows.append(
            {
                **{
                    str(f.column): getattr(advisory, f.attname)
                    for f in Advisory._meta.concrete_fields
                    if f.name != "draft"
                },
                "draft": sealing.seal(key, draft.encode(), "advisories.advisory.draft"),
            }
        )
        if PublishedRecord is not None:
            data = json.loads(text)
            record_rows.append(
                {"advisory_id": advisory.id, "osv_id": data["id"], "modified": data.get("modified", ""),
                 "summary": data.get("summary", ""), "osv": text}
            )  # fmt: skip
            for affected in data.get("affected") or []:
                named = affected.get("package") or {}
                ecosystem, name = osv_match.index_key(str(named.get("ecosystem", "")), str(named.get("name", "")))
                package_rows.append(
                    {"id": base_package + len(package_rows), "record_id": advisory.id, "ecosystem": ecosystem,
                     "name": name, "affected": json.dumps(affected)}
                )  # fmt: skip
        progress.advance(1)
    writer.insert(Advisory, advisory_rows, progress)
    if PublishedRecord is not None:
        writer.insert(PublishedRecord, record_rows, progress)
        writer.insert(PublishedPackage, package_rows, progress)
    AdvisorySequence.objects.update_or_create(prefix="EMB", year=year, defaults={"last": count})
    progress.close()
    with writer.connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "count": count,
        "seconds": round(time.monotonic() - started, 1),
        "package": ["PyPI", "osv-pkg-00000"],
        "version": "3.0.1",
        "matches": 1 if count > 3 else 0,
        "package_index": PublishedRecord is not None,
    }


def make_login(email: str) -> dict[str, str]:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from embargo.accounts.actions import do_create_token
    from embargo.accounts.models import User

    user = User.objects.get(email=email)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="bench device", confirmed=True
    )
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    token = do_create_token(user, name=f"bench {os.getpid()}", scope="read", acting_user=user)
    return {"cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}", "token": token}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__.split("\n\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("load", help="reports over projects")
    p.add_argument("--reports", type=int, required=True)
    p.add_argument("--projects", type=int, required=True)
    p.add_argument("--size", default="custom")
    p = verbs.add_parser("advisories", help="published advisories")
    p.add_argument("--count", type=int, required=True)
    p = verbs.add_parser("login", help="a session cookie and an API token")
    p.add_argument("--email", default=MEMBER_EMAIL)
    args = parser.parse_args(argv)
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "embargo.settings")
    django.setup()
    if args.verb == "load":
        print(json.dumps(asdict(load(args.reports, args.projects, args.size))))
    elif args.verb == "advisories":
        print(json.dumps(load_advisories(args.count)))
    else:
        print(json.dumps(make_login(args.email)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
