"""The ``kithkin`` command: run the demo, serve in production, and look after a deployment.

Each subcommand is a thin layer over a Django management command (``createpractice``,
``audit_verify``, ``rotate_keys``, ``seed_demo``, ``worker``), so everything works the same
through ``kithkin manage ...`` or ``manage.py``. Run ``kithkin --help`` for the list.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SETTINGS_MODULE = "kithkin.settings"
DEFAULT_PORT = 8000

Handler = Callable[[argparse.Namespace], int]


def _setup() -> None:
    """Load Django's settings, which come from the environment, so callers set it first."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django

    django.setup()


def _call(command: str, *args: str, **options: Any) -> int:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command(command, *args, **options)
    except CommandError as error:
        print(error, file=sys.stderr)
        return error.returncode
    return 0


# --- demo ----------------------------------------------------------------------------------


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def login_box(url: str) -> str:
    """The demo logins, framed so they stand out in a scrolling terminal."""
    from kithkin.demo.generator import DEMO_LOGINS, DEMO_PASSWORD

    lines = [
        f"Kithkin demo is running at {url}",
        "",
        f"Every demo login uses the password:  {DEMO_PASSWORD}",
        "",
    ]
    lines += [f"{login.role:<16} {login.email:<30} {login.name}" for login in DEMO_LOGINS]
    lines += ["", "Staff sign-ins then ask for a 6-digit code. In another terminal, here, run:",
              "  .venv/bin/kithkin demo-code admin@demo.kithkin.test   (or any staff email)",
              "", "Emails (invitations, password resets) are printed here, not sent.",
              "Press Ctrl+C to stop."]  # fmt: skip
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line:<{width}} |" for line in lines), rule])


def cmd_demo(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).expanduser().resolve()
    # The demo is a development deployment in its own data directory: development secrets are
    # made there on first run, mail goes to this console, and DEBUG stays off so the demo
    # behaves like production (no debug pages).
    os.environ["KITHKIN_DATA_DIR"] = str(data_dir)
    os.environ["KITHKIN_ENV"] = "development"
    os.environ["KITHKIN_DEBUG"] = "false"
    os.environ["KITHKIN_SITE_URL"] = f"http://127.0.0.1:{args.port}"
    for name in ("KITHKIN_EMAIL_HOST", "KITHKIN_EMAIL_HOST_FILE"):
        os.environ.pop(name, None)
    if not args.no_serve and not _port_is_free(args.port):
        print(
            f"Port {args.port} on 127.0.0.1 is already in use. Stop whatever is using it, or "
            f"choose another port: kithkin demo --port {args.port + 1}",
            file=sys.stderr,
        )
        return 1
    print(f"Kithkin demo: data directory {data_dir}", flush=True)
    _setup()
    print("- Bringing the database up to date ...", flush=True)
    if code := _call("migrate", interactive=False, verbosity=0):
        return code
    print("- Collecting static files ...", flush=True)
    if code := _call("collectstatic", interactive=False, verbosity=0):
        return code
    print(f"- Loading the demo practice ({args.clients} clients) ...", flush=True)
    if code := _call("seed_demo", clients=args.clients, reset=args.reset, seed=args.seed):
        return code
    url = f"http://127.0.0.1:{args.port}"
    print("\n" + login_box(url) + "\n", flush=True)
    if args.no_serve:
        return 0
    worker, demo_pid = _start_worker(), os.getpid()
    try:
        return _gunicorn(bind=f"127.0.0.1:{args.port}", workers=2, threads=4, loglevel="warning")
    finally:
        # gunicorn's forked web workers leave through here too: only this process stops it.
        if os.getpid() == demo_pid:
            _stop_worker(worker)


def _start_worker() -> int:
    """The job worker (alert emails, escalations) beside the demo's web server, in a process of
    its own: gunicorn takes over this process's signals. It gets this environment, so it uses
    the same data directory, and stops by itself if this process dies."""
    argv = [sys.executable, "-m", "kithkin.cli", "worker", "--parent-pid", str(os.getpid())]
    # posix_spawn rather than Popen: gunicorn forks its web workers from this process, and each
    # fork's copy of a Popen object would complain about a running child as the fork exits.
    return os.posix_spawn(sys.executable, argv, os.environ)


def _stop_worker(pid: int) -> None:
    deadline = time.monotonic() + 20
    try:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return  # it has already exited
        os.kill(pid, signal.SIGTERM)  # the job in hand finishes, then the worker exits
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return
            time.sleep(0.1)
    except ChildProcessError:
        pass  # gunicorn's arbiter reaps any child of this process that exits


def cmd_demo_code(args: argparse.Namespace) -> int:
    """The current two-step sign-in code of a demo staff login (demo accounts only)."""
    os.environ["KITHKIN_DATA_DIR"] = str(Path(args.data_dir).expanduser().resolve())
    os.environ["KITHKIN_ENV"] = "development"
    _setup()
    from kithkin.demo.mfa import current_code

    code = current_code(args.email)
    if code is None:
        print(
            "No demo code for that address: demo-code only gives codes for the demo's staff "
            "logins (see `kithkin demo`). Everyone else uses their own authenticator app.",
            file=sys.stderr,
        )
        return 1
    print(code)
    return 0


# --- serve ---------------------------------------------------------------------------------


def _gunicorn(**options: Any) -> int:
    """Serve kithkin.wsgi with gunicorn in this process (no shell, no second interpreter)."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from kithkin.wsgi import application

    # Workers are forked from this process: they must not inherit its database connections.
    connections.close_all()

    class KithkinServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    settings: dict[str, Any] = {
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 60,
        "graceful_timeout": 30,
        # Access logs would record invitation and password-reset links (tokens in the path);
        # the reverse proxy in front should log, with its own redaction.
        "accesslog": None,
        "errorlog": "-",
        "proc_name": "kithkin",
        **options,
    }
    options.clear()
    options.update(settings)
    KithkinServer().run()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()  # production settings refuse to load with a missing secret or DEBUG on
    return _gunicorn(
        bind=args.bind, workers=args.workers, threads=args.threads, timeout=args.timeout
    )


# --- administration ------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kithkin migrate", "migrate", *args.args])
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kithkin manage", *(args.args or ["help"])])
    return 0


def cmd_createpractice(args: argparse.Namespace) -> int:
    _setup()
    options: dict[str, Any] = {"time_zone": args.time_zone, "interactive": not args.no_input}
    for key in ("name", "admin_email", "admin_name", "password_file"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    return _call("createpractice", **options)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    _setup()
    return _call("audit_verify")


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    _setup()
    return _call("rotate_keys", batch_size=args.batch_size)


def cmd_backup(args: argparse.Namespace) -> int:
    _setup()
    from kithkin.ops.commands import backup_command

    return backup_command(args.output, args.check)


def cmd_restore(args: argparse.Namespace) -> int:
    _setup()
    from kithkin.ops.commands import restore_command

    return restore_command(args.backup, args.data_dir, args.database_url)


def cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    options: dict[str, Any] = {"once": args.once, "interval": args.interval, "limit": args.limit}
    if args.parent_pid is not None:
        options["parent_pid"] = args.parent_pid
    return _call("worker", **options)


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure server time for the benchmark scenarios (see docs/benchmarks.md)."""
    import json
    import shutil
    import tempfile

    from django.apps import apps

    throwaway: str | None = None
    if not apps.ready:
        # A fresh SQLite database in a temporary data directory: the benchmark never writes to
        # a real deployment's database, whatever DATABASE_URL says.
        throwaway = tempfile.mkdtemp(prefix="kithkin-bench-")
        os.environ.update(
            KITHKIN_DATA_DIR=throwaway, KITHKIN_ENV="development", KITHKIN_DEBUG="false"
        )
        for name in ("DATABASE_URL", "DATABASE_URL_FILE"):
            os.environ.pop(name, None)
        _setup()
        if args.only != ["http"]:  # the HTTP scenario makes deployments of its own
            print("Preparing a throwaway database ...", file=sys.stderr, flush=True)
            if code := _call("migrate", interactive=False, verbosity=0):
                return code
    from kithkin import bench
    from kithkin.bench.http_scenario import BenchError

    try:
        results = bench.run(quick=args.quick, only=args.only, postgres_url=args.postgres)
    except BenchError as error:
        print(f"kithkin bench: {error}", file=sys.stderr)
        return 1
    finally:
        if throwaway is not None:
            from django.db import connections

            connections.close_all()
            shutil.rmtree(throwaway, ignore_errors=True)
    print(json.dumps(results, indent=2))
    if args.output:
        target = Path(args.output)
        if target.is_dir():
            written = bench.write_docs(results, target)
        else:
            written = bench.write_json(results, target)
        print(f"Wrote {written}", file=sys.stderr)
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _add_backup_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    backup = add("backup", cmd_backup, "write an encrypted, verified backup of the database")
    backup.add_argument(
        "--output",
        metavar="PATH",
        help="the backup file, or a folder for a dated one (default DATA_DIR/backups)",
    )
    backup.add_argument(
        "--check", metavar="BACKUP", help="only verify an existing backup, fully, and stop"
    )

    restore = add(
        "restore", cmd_restore, "restore a backup into a new data directory or empty database"
    )
    restore.add_argument("backup", help="the backup file")
    restore_target = restore.add_mutually_exclusive_group(required=True)
    restore_target.add_argument(
        "--data-dir", metavar="DIR", help="SQLite: a data directory with no database yet"
    )
    restore_target.add_argument(
        "--database-url", metavar="URL", help="PostgreSQL: an empty database, postgres://..."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kithkin",
        description="Kithkin: social-connection care for trauma recovery.",
        epilog="Settings come from KITHKIN_* environment variables; see docs/configuration.md.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str, **kwargs: Any) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, **kwargs)
        sub.set_defaults(handler=handler)
        return sub

    demo = add("demo", cmd_demo, "run the demo practice on http://127.0.0.1:PORT")
    demo.add_argument("--port", type=_positive, default=DEFAULT_PORT, help="default %(default)s")
    demo.add_argument(
        "--data-dir", default="data", help="database and secrets go here (default ./data)"
    )
    demo.add_argument(
        "--clients", type=_positive, default=40, help="clients in a new demo (default %(default)s)"
    )
    demo.add_argument("--seed", type=int, default=2024, help=argparse.SUPPRESS)
    demo.add_argument("--reset", action="store_true", help="rebuild the demo practice from scratch")
    demo.add_argument(
        "--no-serve", action="store_true", help="prepare everything, print the logins, and stop"
    )

    demo_code = add(
        "demo-code", cmd_demo_code, "print the current sign-in code of a demo staff login"
    )
    demo_code.add_argument("email", help="a demo staff login, e.g. clinician@demo.kithkin.test")
    demo_code.add_argument(
        "--data-dir", default="data", help="the demo's data directory (default ./data)"
    )

    serve = add("serve", cmd_serve, "serve Kithkin in production with gunicorn")
    serve.add_argument(
        "--bind", default="127.0.0.1:8000", help="address:port (default %(default)s)"
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=min(2 * (os.cpu_count() or 1) + 1, 9),
        help="worker processes (default %(default)s)",
    )
    serve.add_argument("--threads", type=_positive, default=4, help="threads per worker")
    serve.add_argument("--timeout", type=_positive, default=60, help="request timeout, seconds")

    migrate = add("migrate", cmd_migrate, "create or update the database tables")
    migrate.add_argument("args", nargs=argparse.REMAINDER, help="passed to Django's migrate")

    practice = add("createpractice", cmd_createpractice, "create a practice and its first admin")
    practice.add_argument("--name", help="the practice's name")
    practice.add_argument("--admin-email", help="the practice admin's email address")
    practice.add_argument("--admin-name", help="the practice admin's name")
    practice.add_argument("--time-zone", default="UTC", help="e.g. Europe/London")
    practice.add_argument("--password-file", type=Path, help="read the admin's password from it")
    practice.add_argument("--no-input", action="store_true", help="never prompt")

    audit = add("audit", _no_subcommand, "work with the audit trail")
    audit_commands = audit.add_subparsers(title="audit commands", metavar="COMMAND")
    verify = audit_commands.add_parser(
        "verify", help="check the audit trail's hash chain; exit 1 at the first broken link"
    )
    verify.set_defaults(handler=cmd_audit_verify)
    audit.set_defaults(handler=_no_subcommand, group=audit)

    rotate = add(
        "rotate-keys", cmd_rotate_keys, "re-encrypt every encrypted field with the newest key"
    )
    rotate.add_argument("--batch-size", type=_positive, default=500, help="rows per transaction")

    _add_backup_commands(add)

    worker = add("worker", cmd_worker, "run background jobs (emails, escalations) until stopped")
    worker.add_argument("--once", action="store_true", help="run every job that is due, then exit")
    worker.add_argument(
        "--interval",
        type=_seconds,
        default=5.0,
        metavar="SECONDS",
        help="wait this long when no job is due (default %(default)s)",
    )
    worker.add_argument(
        "--limit",
        type=_positive,
        default=10,
        metavar="N",
        help="jobs claimed at a time (default %(default)s)",
    )
    worker.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)

    bench = add("bench", cmd_bench, "measure pages, actions and background work (benchmarks)")
    bench.add_argument(
        "--quick", action="store_true", help="a smoke run: small data, fewer and shorter runs"
    )
    bench.add_argument(
        "--only",
        nargs="+",
        choices=["map", "rescore", "sweep", "http"],
        help="run only these scenarios (default: all)",
    )
    bench.add_argument(
        "--postgres",
        metavar="URL",
        help="also run the HTTP scenario on PostgreSQL: a server URL such as "
        "postgresql://postgres@127.0.0.1:5432/postgres (a scratch database is created there "
        "and dropped afterwards)",
    )
    bench.add_argument(
        "--output",
        metavar="FILE",
        help="also write the JSON to FILE; given a directory (e.g. docs), update "
        "DIRECTORY/benchmarks.md (Markdown tables) and DIRECTORY/benchmarks.json instead",
    )

    manage = add(
        "manage", cmd_manage, "run a Django management command, e.g. `kithkin manage shell`"
    )
    manage.add_argument("args", nargs=argparse.REMAINDER, help="the command and its arguments")
    return parser


def _no_subcommand(args: argparse.Namespace) -> int:
    args.group.print_help()
    return 2


# These hand every argument on to Django untouched (argparse would try to read "-v0" itself).
PASSTHROUGH: dict[str, Handler] = {"manage": cmd_manage, "migrate": cmd_migrate}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    handler: Handler | None
    if arguments and arguments[0] in PASSTHROUGH:
        handler = PASSTHROUGH[arguments[0]]
        args = argparse.Namespace(args=arguments[1:])
    else:
        args = parser.parse_args(arguments)
        handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from django.core.exceptions import ImproperlyConfigured

    try:
        return handler(args)
    except ImproperlyConfigured as error:
        print(f"Kithkin cannot start: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
