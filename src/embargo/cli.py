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


def cmd_serve(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    web = [
        sys.executable, "-m", "gunicorn", "embargo.wsgi:application",
        "--bind", f"{args.host}:{args.port}",
        "--workers", str(args.workers),
        "--access-logfile", "-",
        "--graceful-timeout", "5",
        "--forwarded-allow-ips", os.environ.get("EMBARGO_FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]  # fmt: skip
    print(f"Embargo serves on http://{args.host}:{args.port}/ (API: /api/v1, Ctrl-C stops)", flush=True)
    if args.no_worker:
        os.execv(sys.executable, web)  # noqa: S606 - fixed argv, no shell, nothing from user text
    worker = [sys.executable, "-m", "embargo", "worker"]
    return supervise({"web": web, "worker": worker})


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


def cmd_project_add_member(args: argparse.Namespace) -> int:
    from embargo.accounts.models import User
    from embargo.projects.actions import do_add_member
    from embargo.projects.models import Project

    project = Project.objects.filter(slug=args.slug).first()
    if project is None:
        return _fail(f"no project {args.slug!r}")
    user = User.objects.filter(email=args.email.strip().lower()).first()
    if user is None:
        return _fail(f"no user {args.email!r}; create one with `embargo user create {args.email}`")
    do_add_member(project, user, args.role, acting_user=None)
    _print(args, {"project": project.slug, "user": user.email, "role": args.role},
           f"{user.email} is now {args.role} of {project.slug}.")  # fmt: skip
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
    from embargo.accounts.actions import do_create_token
    from embargo.accounts.models import User

    user = User.objects.filter(email=args.email.strip().lower(), is_active=True).first()
    if user is None:
        return _fail(f"no user {args.email!r}")
    token = do_create_token(user, name=args.name or "", acting_user=None)
    _print(args, {"token": token, "user": user.email}, token)
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
    p.add_argument("--workers", type=int, default=int(os.environ.get("EMBARGO_WEB_WORKERS", "2")))
    p.add_argument("--no-worker", action="store_true", help="serve only; run `embargo worker` elsewhere")
    p = command(nouns, "worker", cmd_worker, "deliver notifications from the outbox", json_flag=True)
    p.add_argument("--once", action="store_true", help="run one pass and exit")
    p.add_argument("--now", help="with --once: run the pass as if it were this moment (ISO-8601)")
    p.add_argument("--dry-run", action="store_true", help="print the reminders that are due, and send nothing")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between passes when idle")
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
