"""The `embargo` command: `embargo NOUN VERB …`. Exit 0 on success, 1 on failure, 2 on usage errors."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

Handler = Callable[[argparse.Namespace], int]


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "embargo.settings")
    import django

    django.setup()


def _print(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        print(text)


def _fail(message: str) -> int:
    print(f"embargo: error: {message}", file=sys.stderr)
    return 1


# --- commands ---------------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    if args.verbose or not args.quiet:
        print("Database is up to date.")
    return 0


def default_web_workers() -> int:
    """2 x the CPUs this process may use + 1 (gunicorn's rule of thumb for sync workers, which wait on the
    database), at most 8: past that a machine is better used by a second machine's processes than by more
    connections to one database."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(2 * cpus + 1, 8)


def _web_server_argv(args: argparse.Namespace) -> list[str]:
    bind_host = f"[{args.host}]" if ":" in args.host else args.host
    if args.server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "wsgi", "embargo.wsgi:application",
            "--host", args.host, "--port", str(args.port),
            "--workers", str(args.workers),
            "--blocking-threads", str(args.threads),
            "--workers-kill-timeout", "5",
            *(["--access-log"] if args.access_log else []),
        ]  # fmt: skip
    # gunicorn: sync workers (one request at a time each) unless --threads asks for gthread workers. A reverse
    # proxy in front buffers slow clients (docs/deploy.md), so a worker is never held by a slow upload.
    trusted = os.environ.get("EMBARGO_FORWARDED_ALLOW_IPS") or os.environ.get("EMBARGO_TRUSTED_PROXIES") or "127.0.0.1"
    return [
        sys.executable, "-m", "gunicorn", "embargo.wsgi:application",
        "--bind", f"{bind_host}:{args.port}",
        "--workers", str(args.workers),
        "--threads", str(args.threads),
        "--timeout", str(args.timeout),
        "--graceful-timeout", "5",
        "--keep-alive", "5",
        "--forwarded-allow-ips", trusted,
        *(["--access-logfile", "-"] if args.access_log else []),
    ]  # fmt: skip


def cmd_serve(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    if args.server == "granian":
        import importlib.util

        if importlib.util.find_spec("granian") is None:
            print("embargo serve: error: --server granian needs granian (pip install granian)", file=sys.stderr)
            return 2
    call_command("migrate", interactive=False, verbosity=0)
    # The servers link fingerprinted, compressed static files (settings.EMBARGO_COLLECTED_STATIC), collected
    # now; EMBARGO_COLLECTED_STATIC=0 serves them from the apps' folders instead.
    if os.environ.get("EMBARGO_COLLECTED_STATIC", "") != "0":
        collect_static()
        os.environ["EMBARGO_COLLECTED_STATIC"] = "1"
    web = _web_server_argv(args)
    print(
        f"Embargo serves on http://{args.host}:{args.port}/ (API: /api/v1, Ctrl-C stops) with {args.server}, "
        f"{args.workers} workers x {args.threads} threads",
        flush=True,
    )
    if args.no_worker:
        os.execv(sys.executable, web)  # noqa: S606 - fixed argv, no shell, nothing from user text
    worker = [sys.executable, "-m", "embargo", "worker"]
    return supervise({"web": web, "worker": worker})


STATIC_IGNORE = ["CVS", ".*", "*~"]  # collectstatic's own default


def collect_static(*, force: bool = False) -> dict[str, Any]:
    """Collects the static files into STATIC_ROOT, fingerprinted and compressed, unless what is there was
    collected from the very same files (a hash of their names and contents, kept in STATIC_ROOT/.collected):
    a restart costs a few reads, not a re-compression. Older fingerprinted copies stay, for pages still open."""
    import hashlib
    import importlib.util
    from importlib.metadata import version
    from pathlib import Path

    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders
    from django.contrib.staticfiles.management.commands.collectstatic import Command
    from django.core.management import call_command
    from whitenoise.storage import CompressedManifestStaticFilesStorage

    root = Path(settings.EMBARGO_STATIC_ROOT)
    has_brotli = importlib.util.find_spec("brotli") is not None
    digest = hashlib.sha256(f"{settings.STATIC_URL} whitenoise {version('whitenoise')} {has_brotli}".encode())
    sources = 0
    for finder in get_finders():
        for path, source in sorted(finder.list(STATIC_IGNORE), key=lambda item: item[0]):
            with source.open(path) as f:
                digest.update(f"{path}\0{hashlib.sha256(f.read()).hexdigest()}\0".encode())
            sources += 1
    stamp = root / ".collected"
    fingerprint = digest.hexdigest()
    unchanged = stamp.is_file() and stamp.read_text().strip() == fingerprint and (root / "staticfiles.json").is_file()
    if unchanged and not force:
        return {"root": str(root), "files": sources, "collected": False}
    root.mkdir(parents=True, exist_ok=True)
    command = Command()
    command.storage = CompressedManifestStaticFilesStorage(location=str(root))
    call_command(command, interactive=False, verbosity=0)
    stamp.write_text(fingerprint + "\n")
    return {"root": str(root), "files": sources, "collected": True}


def cmd_collectstatic(args: argparse.Namespace) -> int:
    result = collect_static(force=args.force)
    verb = "Collected" if result["collected"] else "Already collected (unchanged)"
    _print(args, result, f"{verb}: {result['files']} static files in {result['root']}, fingerprinted and compressed.")
    return 0


def supervise(commands: dict[str, list[str]]) -> int:
    """Runs the processes side by side; when one ends or a signal comes, stops them all."""
    import signal
    import subprocess
    import time

    children = {name: subprocess.Popen(argv) for name, argv in commands.items()}  # noqa: S603 - fixed argv
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    while not stopping:
        ended = [name for name, child in children.items() if child.poll() is not None]
        if ended:
            status = children[ended[0]].returncode or 1
            print(
                f"embargo: {ended[0]} stopped (exit {children[ended[0]].returncode}); stopping the rest",
                flush=True,
            )
            break
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 10
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return status


def cmd_worker(args: argparse.Namespace) -> int:
    import datetime as dt
    import signal
    import time

    from embargo.notifications.worker import run_pass

    now = None
    if args.now:
        try:
            now = dt.datetime.fromisoformat(args.now)
        except ValueError:
            return _fail(f"--now {args.now!r} is not an ISO-8601 moment (e.g. 2026-12-01T09:00:00Z)")
        if now.tzinfo is None:
            return _fail("--now needs a time zone (e.g. 2026-12-01T09:00:00Z)")
    if args.dry_run:
        from embargo import clock
        from embargo.reports import reminders

        due = reminders.run(now or clock.now(), dry_run=True)
        text = "\n".join(f"{r}  {k}" for r, k in due) or "no reminder is due"
        _print(args, {"reminders": [{"report": r, "kind": k} for r, k in due]}, text)
        return 0
    if args.once:
        from embargo import clock

        if now is not None:
            clock.freeze(now)  # every record of this pass is dated as if it ran then
        result = run_pass(now)
        data = {
            "reminders": result.reminders,
            "claimed": result.claimed,
            "sent": result.sent,
            "retried": result.retried,
            "failed": result.failed,
        }
        text = f"reminders {result.reminders}, sent {result.sent}, retried {result.retried}, failed {result.failed}"
        _print(args, data, text)
        return 0 if not result.errors else 1
    running = True

    def stop(signum: int, frame: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("embargo worker: delivering the outbox (Ctrl-C stops)", flush=True)
    while running:
        idle = True
        try:
            idle = run_pass().claimed == 0
        except Exception as e:  # noqa: BLE001 - the worker outlives a bad pass; the next one retries
            print(f"embargo worker: pass failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        if idle:
            for _ in range(int(args.interval * 10)):
                if not running:
                    break
                time.sleep(0.1)
    return 0


def cmd_mail_in(args: argparse.Namespace) -> int:
    """The SMTP (or LMTP) receiver of the projects' intake addresses and the reply addresses (docs/mail-in.md)."""
    import asyncio
    import contextlib
    import signal

    from embargo.mailin.receiver import serve

    async def main() -> None:
        task = asyncio.current_task()
        for signum in (signal.SIGTERM, signal.SIGINT):
            if task is not None:
                asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
        protocol = "LMTP" if args.lmtp else "SMTP"

        def ready() -> None:
            print(f"embargo mail-in: {protocol} on {args.host}:{args.port} (Ctrl-C stops)", flush=True)

        with contextlib.suppress(asyncio.CancelledError):
            await serve(args.host, args.port, lmtp=args.lmtp, ready=ready)

    try:
        asyncio.run(main())
    except OSError as e:
        return _fail(f"cannot listen on {args.host}:{args.port}: {e.strerror}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from embargo.projects.demo import load_demo

    if args.walkthrough:
        return cmd_demo_walkthrough(args)
    result = load_demo()
    _print(args, result, result["text"])
    return 0


def cmd_demo_walkthrough(args: argparse.Namespace) -> int:
    """A report of the demo project from intake to publication on a simulated clock (embargo.projects.walkthrough)."""
    from dataclasses import asdict

    from embargo.projects import walkthrough

    def say(line: str) -> None:
        if not args.json:
            print(line, flush=True)

    outcome = walkthrough.run(say)
    _print(args, asdict(outcome), walkthrough.text_of(outcome))
    return 0


def cmd_project_create(args: argparse.Namespace) -> int:
    from embargo.projects.actions import do_create_project

    project = do_create_project(
        args.slug,
        name=args.name,
        repository_url=args.repository or "",
        package=args.package or "",
        acting_user=None,
    )
    package = f"{project.package_ecosystem}:{project.package_name}" if project.package_name else None
    data = {
        "slug": project.slug,
        "name": project.name,
        "repository_url": project.repository_url,
        "package": package,
    }
    _print(args, data, f"Created project {project.slug} ({project.name}) with the reference policy.")
    return 0


def cmd_policy_render(args: argparse.Namespace) -> int:
    """The project's disclosure policy as a SECURITY.md, on standard output or into --output."""
    from pathlib import Path

    from embargo.formats.policy_document import render_markdown
    from embargo.projects.models import Project
    from embargo.web.security import policy_document

    project = Project.objects.select_related("policy").filter(slug=args.slug).first()
    if project is None:
        return _fail(f"no project {args.slug!r}")
    text = render_markdown(policy_document(project))
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as e:
        return _fail(f"cannot write {args.output}: {e.strerror}")
    print(f"Wrote the policy of {project.slug} to {args.output}.", file=sys.stderr)
    return 0


def _project_and_user(args: argparse.Namespace) -> tuple[Any, Any] | str:
    """The project `args.slug` and the user `args.email`, or the message saying which is missing."""
    from embargo.accounts.models import User
    from embargo.projects.models import Project

    project = Project.objects.filter(slug=args.slug).first()
    if project is None:
        return f"no project {args.slug!r}"
    user = User.objects.filter(email=args.email.strip().lower()).first()
    if user is None:
        return f"no user {args.email!r}; create one with `embargo user create {args.email}`"
    return project, user


def cmd_project_add_member(args: argparse.Namespace) -> int:
    from embargo.projects.actions import do_add_member

    found = _project_and_user(args)
    if isinstance(found, str):
        return _fail(found)
    project, user = found
    do_add_member(project, user, args.role, acting_user=None)
    _print(args, {"project": project.slug, "user": user.email, "role": args.role},
           f"{user.email} is now {args.role} of {project.slug}.")  # fmt: skip
    return 0


def cmd_project_remove_member(args: argparse.Namespace) -> int:
    from embargo.accounts.models import User
    from embargo.errors import ActionError
    from embargo.projects.actions import do_remove_member

    found = _project_and_user(args)
    if isinstance(found, str):
        return _fail(found)
    project, user = found
    heir = None
    if args.reassign_to:
        heir = User.objects.filter(email=args.reassign_to.strip().lower()).first()
        if heir is None:
            return _fail(f"no user {args.reassign_to!r}")
    try:
        moved = do_remove_member(project, user, reassign_to=heir, acting_user=None)
    except ActionError as e:
        return _fail(e.message)
    _print(args, {"project": project.slug, "user": user.email, "reassigned": moved},
           f"{user.email} is off the team of {project.slug}: tokens revoked, signed out everywhere, "
           f"{moved} report(s) reassigned{' to ' + heir.email if heir else ''}.")  # fmt: skip
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from embargo.accounts.actions import do_create_user

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            return _fail("--password-stdin read an empty password")
    user = do_create_user(args.email, name=args.name or "", password=password, verified=True, acting_user=None)
    note = "" if password else " (no password: API tokens only)"
    _print(
        args,
        {"id": user.public_id, "email": user.email, "name": user.name},
        f"Created user {user.email}{note}.",
    )
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    import datetime as dt

    from embargo import clock
    from embargo.accounts.actions import do_create_token
    from embargo.accounts.models import User
    from embargo.errors import ActionError
    from embargo.projects.models import Project

    user = User.objects.filter(email=args.email.strip().lower(), is_active=True).first()
    if user is None:
        return _fail(f"no user {args.email!r}")
    projects = []
    for slug in args.project or []:
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            return _fail(f"no project {slug!r}")
        projects.append(project)
    expires_at = clock.now() + dt.timedelta(days=args.expires_in_days) if args.expires_in_days else None
    try:
        token = do_create_token(
            user, name=args.name or "", scope=args.scope, projects=projects, expires_at=expires_at, acting_user=None
        )
    except ActionError as e:
        return _fail(e.message)
    _print(args, {"token": token, "user": user.email, "scope": args.scope}, token)
    return 0


def cmd_outbox_list(args: argparse.Namespace) -> int:
    from embargo.notifications.models import OutboxMessage

    rows = OutboxMessage.objects.select_related("report").order_by("-id")
    if args.failed:
        rows = rows.filter(failed_at__isnull=False)
    elif args.pending:
        rows = rows.filter(sent_at__isnull=True, failed_at__isnull=True)
    items = [
        {
            "id": r.public_id,
            "template": r.template,
            "to": r.to_email,
            "report": r.report.public_id if r.report else None,
            "status": "sent" if r.sent_at else "failed" if r.failed_at else "retrying" if r.attempts else "pending",
            "attempts": r.attempts,
            "due_at": r.due_at.isoformat(),
            "last_error": r.last_error[:200],
        }
        for r in rows[: args.limit]
    ]
    lines = [f"{i['status']:<9} {i['attempts']:>2}x {i['template']:<22} {i['to']:<30} {i['last_error']}" for i in items]
    _print(args, {"items": items}, "\n".join(lines) or "the outbox is empty")
    return 0


def cmd_advisory_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from embargo.advisories.importing import ImportResult, import_record, records_in
    from embargo.projects.models import Project

    project = Project.objects.filter(slug=args.slug).first()
    if project is None:
        return _fail(f"no project {args.slug!r}")
    path = Path(args.path)
    if not path.exists():
        return _fail(f"{path} does not exist")
    records = list(records_in(path))
    result = ImportResult()
    for name, raw in tqdm(records, desc="importing", unit="record", disable=args.json or not sys.stderr.isatty()):
        import_record(project, name, raw, result, acting_user=None)
    data = {
        "imported": result.imported,
        "already_present": result.present,
        "rejected": [{"file": f, "reason": r} for f, r in result.rejected],
    }
    lines = [f"imported {len(result.imported)}, already present {len(result.present)}, rejected {len(result.rejected)}"]
    lines += [f"  rejected {f}: {r}" for f, r in result.rejected]
    _print(args, data, "\n".join(lines))
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Walks every audit chain and the checkpoints; exit 1 names the first broken link."""
    from embargo.audit.chain import verify
    from embargo.audit.models import Event

    show = not args.json and sys.stderr.isatty()
    total = Event.objects.count() if show else 0

    def progress(done: int) -> None:
        if done % 1000 == 0 or done == total:
            print(f"\rverifying: {done}/{total} events", end="", file=sys.stderr, flush=True)

    outcome = verify(progress if show else None)
    if show:
        print(file=sys.stderr)
    broken = outcome.broken
    data = {
        "intact": broken is None,
        "events": outcome.events,
        "chains": outcome.chains,
        "checkpoints": outcome.checkpoints,
        "broken": None
        if broken is None
        else {
            "chain": broken.chain,
            "seq": broken.seq,
            "reason": broken.reason,
            "stored": broken.stored,
            "computed": broken.computed,
            "message": outcome.where,
        },
    }
    if broken is None:
        text = f"intact: {outcome.events} events in {outcome.chains} chains, {outcome.checkpoints} checkpoints"
    else:
        text = outcome.where
    _print(args, data, text)
    return 0 if broken is None else 1


def cmd_retention_run(args: argparse.Namespace) -> int:
    """Purges the spam and rejected reports whose retention time is up (the worker does it on every pass)."""
    from embargo import clock
    from embargo.reports import retention

    now = clock.now()
    if args.dry_run:
        due = retention.pending(now)
        data = {"due": [{"report": r.public_id, "project": r.project.slug, "purge_at": r.purge_at} for r in due]}
        lines = [f"{r.public_id} ({r.project.slug}): due since {r.purge_at:%Y-%m-%d %H:%M}" for r in due]
        _print(args, data, "\n".join([f"{len(due)} report(s) due for purging", *lines]))
        return 0
    show = not args.json and sys.stderr.isatty()

    def progress(purged: retention.Purged) -> None:
        if show:
            print(f"\rpurged {purged.report} ({purged.rule})", end="", file=sys.stderr, flush=True)

    done = retention.run(now, progress)
    if show and done:
        print(file=sys.stderr)
    data = {"purged": [vars(p) for p in done]}
    _print(args, data, f"{len(done)} report(s) purged" + "".join(f"\n  {p.report}: {p.rule}" for p in done))
    return 0


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    from embargo.audit.chain import write_checkpoint

    cp = write_checkpoint()
    data = {"seq": cp.seq, "heads": len(cp.heads), "hash": cp.hash, "created_at": cp.created_at.isoformat()}
    _print(args, data, f"checkpoint {cp.seq}: {len(cp.heads)} chain heads pinned, hash {cp.hash}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    """A new key-encryption key, and every data key re-wrapped with it (embargo.vault.rotation)."""
    from embargo.vault.keys import KeyRingError
    from embargo.vault.progress import Progress
    from embargo.vault.rotation import rotate

    if args.batch < 1:
        print("embargo keys rotate: error: --batch is at least 1", file=sys.stderr)
        return 2
    bar = Progress("re-wrapping data keys", unit="keys")

    def progress(done: int, total: int) -> None:
        if bar.total != total:
            bar.set_total(total)
        bar.update(done)

    try:
        result = rotate(batch_size=args.batch, max_batches=args.max_batches, progress=progress)
    except KeyRingError as e:
        return _fail(f"{e} (the data keys re-wrapped so far stay valid; rerun to continue)")
    finally:
        bar.close()
    data = {
        "current_kek": result.current_kek,
        "new_kek": result.new_kek,
        "rewrapped": result.rewrapped,
        "remaining": result.remaining,
        "complete": result.complete,
        "retirable": result.retirable,
    }
    start = "a new key-encryption key" if result.new_kek else "continued the rotation to the key-encryption key"
    lines = [f"Rotation: {start} {result.current_kek}; re-wrapped {result.rewrapped} data keys."]
    if not result.complete:
        lines.append(f"{result.remaining} data keys still use an old key: run `embargo keys rotate` again.")
    elif result.retirable:
        lines.append(f"Old keys no data key uses: {', '.join(result.retirable)} (`embargo keys retire` removes them).")
    _print(args, data, "\n".join(lines))
    return 0


def cmd_keys_retire(args: argparse.Namespace) -> int:
    from embargo.vault.keys import KeyRingError
    from embargo.vault.rotation import outdated, retire

    if outdated():
        return _fail("some data keys still use an old key-encryption key: finish `embargo keys rotate` first")
    try:
        retired = retire()
    except KeyRingError as e:
        return _fail(str(e))
    _print(args, {"retired": retired}, f"Retired {', '.join(retired)}." if retired else "No old key to retire.")
    return 0


def _backup_passphrase(args: argparse.Namespace, *, confirm: bool) -> str | None:
    """From --passphrase-file, else EMBARGO_BACKUP_PASSPHRASE, else asked on the terminal; never an argument."""
    from pathlib import Path

    if args.passphrase_file:
        try:
            lines = Path(args.passphrase_file).read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise SystemExit(_fail(f"cannot read {args.passphrase_file}: {e.strerror}")) from None
        return lines[0] if lines else ""
    if os.environ.get("EMBARGO_BACKUP_PASSPHRASE"):
        return os.environ["EMBARGO_BACKUP_PASSPHRASE"]
    if sys.stdin.isatty():
        import getpass

        passphrase = getpass.getpass("Backup passphrase: ")
        if confirm and getpass.getpass("The passphrase again: ") != passphrase:
            raise SystemExit(_fail("the two passphrases differ"))
        return passphrase
    return None


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from embargo.backup import BackupError, backup

    passphrase = _backup_passphrase(args, confirm=True)
    if passphrase is None:
        print("embargo backup: error: give --passphrase-file or set EMBARGO_BACKUP_PASSPHRASE", file=sys.stderr)
        return 2
    try:
        result = backup(Path(args.path), passphrase)
    except BackupError as e:
        return _fail(str(e))
    data = {
        "path": result.path,
        "engine": result.engine,
        "files": result.files,
        "bytes": result.bytes,
        "external_files": result.external_files,
    }
    text = f"Wrote {result.path}: the {result.engine} database, {result.files} files, the key ring."
    if result.external_files:
        text += (
            f"\nNOT in it: the sealed attachments and patches, which are in {result.external_files}."
            " Back that bucket up separately (e.g. versioning); the archive holds the keys that open them."
        )
    _print(args, data, text)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from embargo.backup import BackupError, restore

    passphrase = _backup_passphrase(args, confirm=False)
    if passphrase is None:
        print("embargo restore: error: give --passphrase-file or set EMBARGO_BACKUP_PASSPHRASE", file=sys.stderr)
        return 2
    if not Path(args.path).is_file():
        return _fail(f"{args.path} is not a file")
    try:
        result = restore(Path(args.path), passphrase)
    except BackupError as e:
        return _fail(str(e))
    data = {
        "engine": result.engine,
        "files": result.files,
        "created_at": result.created_at,
        "external_files": result.external_files,
    }
    text = (
        f"Restored the instance backed up at {result.created_at} ({result.engine}, {result.files} files). "
        "`embargo migrate` (or `embargo serve`) brings its database up to this version."
    )
    if result.external_files:
        text += (
            f"\nThe sealed attachments and patches were in {result.external_files}, not in the archive:"
            " configure that bucket (EMBARGO_FILE_STORAGE=s3, EMBARGO_S3_*) or a restored copy of it."
        )
    _print(args, data, text)
    return 0


def cmd_django(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["embargo django", *args.rest])
    return 0


# --- the parser -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="embargo", description="Coordinated vulnerability disclosure.")
    nouns = parser.add_subparsers(dest="noun", required=True, metavar="COMMAND")

    def command(sub: Any, name: str, handler: Handler, help_text: str, json_flag: bool = False) -> Any:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        if json_flag:
            p.add_argument("--json", action="store_true", help="print machine-readable JSON")
        return p

    p = command(nouns, "serve", cmd_serve, "migrate the database, then serve the web interface and API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--workers", type=int, default=int(os.environ.get("EMBARGO_WEB_WORKERS") or default_web_workers()),
        help="web processes (default: EMBARGO_WEB_WORKERS, else 2 x CPUs + 1, at most 8)",
    )  # fmt: skip
    p.add_argument(
        "--threads", type=int, default=int(os.environ.get("EMBARGO_WEB_THREADS") or "1"),
        help="threads per web process (default: EMBARGO_WEB_THREADS, else 1)",
    )  # fmt: skip
    p.add_argument(
        "--timeout", type=int, default=int(os.environ.get("EMBARGO_WEB_TIMEOUT") or "60"),
        help="gunicorn: seconds a request may take before its worker is restarted (default 60)",
    )  # fmt: skip
    p.add_argument(
        "--server", choices=["gunicorn", "granian"], default=os.environ.get("EMBARGO_WEB_SERVER") or "gunicorn",
        help="the WSGI server (default: EMBARGO_WEB_SERVER, else gunicorn; granian must be installed)",
    )  # fmt: skip
    p.add_argument(
        "--no-access-log", dest="access_log", action="store_false",
        default=os.environ.get("EMBARGO_ACCESS_LOG", "1") != "0",
        help="no line per request on standard output (also EMBARGO_ACCESS_LOG=0)",
    )  # fmt: skip
    p.add_argument("--no-worker", action="store_true", help="serve only; run `embargo worker` elsewhere")
    p = command(
        nouns, "collectstatic", cmd_collectstatic,
        "collect the static files into the data dir, fingerprinted and compressed (`embargo serve` does it too)",
        json_flag=True,
    )  # fmt: skip
    p.add_argument("--force", action="store_true", help="collect even if nothing changed")
    p = command(nouns, "worker", cmd_worker, "deliver notifications from the outbox", json_flag=True)
    p.add_argument("--once", action="store_true", help="run one pass and exit")
    p.add_argument("--now", help="with --once: run the pass as if it were this moment (ISO-8601)")
    p.add_argument("--dry-run", action="store_true", help="print the reminders that are due, and send nothing")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between passes when idle")
    p = command(
        nouns, "mail-in", cmd_mail_in, "receive reports and replies by e-mail (SMTP or LMTP, from your mail server)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2525)
    p.add_argument("--lmtp", action="store_true", help="speak LMTP instead of SMTP (e.g. for Postfix's lmtp transport)")
    p = command(nouns, "migrate", cmd_migrate, "create or update the database")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--verbose", action="store_true")
    p = command(nouns, "demo", cmd_demo, "load the demo project `requests` and its owner (idempotent)", json_flag=True)
    p.add_argument(
        "--walkthrough", action="store_true",
        help="then replay a report of `requests` from intake to publication on a simulated clock (a new one each run)",
    )  # fmt: skip

    project = nouns.add_parser("project", help="projects and their teams").add_subparsers(
        dest="verb", required=True, metavar="VERB"
    )
    p = command(project, "create", cmd_project_create, "create a project with the reference policy", True)
    p.add_argument("slug")
    p.add_argument("--name", required=True)
    p.add_argument("--repository", help="the public repository URL")
    p.add_argument("--package", help="ECOSYSTEM:NAME, e.g. PyPI:requests")
    p = command(project, "add-member", cmd_project_add_member, "add a user to a project's team", True)
    p.add_argument("slug")
    p.add_argument("email")
    p.add_argument("--role", required=True, choices=["maintainer", "owner"])
    p = command(
        project, "remove-member", cmd_project_remove_member,
        "take a user off a project's team: tokens revoked, signed out everywhere, reports reassigned", True,
    )  # fmt: skip
    p.add_argument("slug")
    p.add_argument("email")
    p.add_argument("--reassign-to", metavar="EMAIL", help="a member who takes over their reports (else: nobody)")

    policy = nouns.add_parser("policy", help="a project's disclosure policy").add_subparsers(
        dest="verb", required=True, metavar="VERB"
    )
    p = command(policy, "render", cmd_policy_render, "write the project's disclosure policy as a SECURITY.md")
    p.add_argument("slug")
    p.add_argument("--format", choices=["md"], default="md", help="Markdown (the only format for now)")
    p.add_argument("--output", "-o", help="write to this file instead of standard output")

    user = nouns.add_parser("user", help="user accounts").add_subparsers(dest="verb", required=True, metavar="VERB")
    p = command(user, "create", cmd_user_create, "create a user account", True)
    p.add_argument("email")
    p.add_argument("--name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")

    token = nouns.add_parser("token", help="API tokens").add_subparsers(dest="verb", required=True, metavar="VERB")
    p = command(token, "create", cmd_token_create, "create an API token and print it (only the token)", True)
    p.add_argument("email")
    p.add_argument("--name", help="what the token is for")
    p.add_argument(
        "--scope", choices=["read", "write", "publish"], default="write",
        help="read: look only; write: everything but publishing (the default); publish: everything",
    )  # fmt: skip
    p.add_argument("--project", action="append", metavar="SLUG", help="reach only this project (repeatable)")
    p.add_argument("--expires-in-days", type=int, default=90, metavar="N", help="0: never (default: 90)")

    outbox = nouns.add_parser("outbox", help="notifications waiting, sent or failed").add_subparsers(
        dest="verb", required=True, metavar="VERB"
    )
    p = command(outbox, "list", cmd_outbox_list, "list the outbox, newest first", True)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--failed", action="store_true", help="only what was given up")
    group.add_argument("--pending", action="store_true", help="only what waits for delivery")
    p.add_argument("--limit", type=int, default=50)

    advisory = nouns.add_parser("advisory", help="advisories").add_subparsers(
        dest="verb", required=True, metavar="VERB"
    )
    p = command(advisory, "import", cmd_advisory_import, "import OSV records into a project's published history", True)
    p.add_argument("slug")
    p.add_argument("path", metavar="FILE_OR_DIR_OR_ZIP")

    audit = nouns.add_parser("audit", help="the tamper-evident audit log").add_subparsers(
        dest="verb", required=True, metavar="VERB"
    )
    command(audit, "verify", cmd_audit_verify, "check the audit chains; name the first broken link", True)
    command(audit, "checkpoint", cmd_audit_checkpoint, "pin the heads of the audit chains now", True)

    retention_noun = nouns.add_parser("retention", help="purging spam and rejected reports").add_subparsers(
        dest="verb", required=True, metavar="VERB"
    )
    p = command(retention_noun, "run", cmd_retention_run, "purge the reports whose retention time is up", True)
    p.add_argument("--dry-run", action="store_true", help="list what is due without purging")

    keys_noun = nouns.add_parser("keys", help="the key-encryption keys (key ring)").add_subparsers(
        dest="verb", required=True, metavar="VERB"
    )
    p = command(keys_noun, "rotate", cmd_keys_rotate, "make a new key-encryption key and re-wrap every data key", True)
    p.add_argument("--batch", type=int, default=500, help="data keys per transaction (default 500)")
    p.add_argument("--max-batches", type=int, help="stop after this many batches (rerun to continue)")
    p = command(keys_noun, "retire", cmd_keys_retire, "remove old key-encryption keys that no data key uses", True)

    p = command(nouns, "backup", cmd_backup, "write an encrypted archive of the instance (database, files, keys)", True)
    p.add_argument("path", metavar="PATH")
    p.add_argument("--passphrase-file", metavar="F", help="read the passphrase from the first line of F")
    p.allow_abbrev = False  # `--passphrase SECRET` must be refused, not taken for --passphrase-file
    p = command(nouns, "restore", cmd_restore, "rebuild an instance from a backup, into an empty data dir", True)
    p.add_argument("path", metavar="PATH")
    p.add_argument("--passphrase-file", metavar="F", help="read the passphrase from the first line of F")
    p.allow_abbrev = False  # `--passphrase SECRET` must be refused, not taken for --passphrase-file

    p = command(nouns, "django", cmd_django, "run a Django management command (for developers)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_django()
    from embargo.errors import ActionError

    try:
        return int(args.handler(args))
    except ActionError as e:
        return _fail(e.message)
    except KeyboardInterrupt:
        return 130
