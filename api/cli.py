"""The `lapor` command: database, seed data, deployment, server, scheduler and dev tools."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import sessionmaker
from tqdm import tqdm

from api.config import Settings

DEMO_URL = "http://127.0.0.1:5000"


def _settings() -> Settings:
    """The settings from the environment; the engine gets the personal data key here (every
    command that touches the database reads them first)."""
    from engine import personal_data

    settings = Settings.from_env()
    personal_data.configure(settings.PERSONAL_DATA_KEY)
    return settings


@contextmanager
def _sessions(url: str) -> Iterator[sessionmaker]:
    """A session factory on `url` whose engine is disposed when the command ends."""
    from engine.db import make_engine, make_session_factory

    engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """LAPOR Flow: the workflow engine behind SP4N-LAPOR!

    Every chore has a command: db upgrade, seed, bpmn deploy|lint, serve, scheduler,
    user create, calendar add|remove|import|list, audit verify, export, privacy purge.
    """
    from api import logs

    settings = Settings.from_env()
    development = ctx.invoked_subcommand == "serve"  # the development server of `make run`
    logs.configure(
        logs.resolve_format(settings.LOG_FORMAT, development=development), settings.LOG_LEVEL
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration (creates the SQLite file's folder if needed)."""
    from engine import schema

    url = _settings().DATABASE_URL
    _ensure_sqlite_dir(url)
    schema.upgrade(url)
    click.echo(f"database at revision {schema.head_revision()}")


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@main.command()
@click.option(
    "--demo-reports",
    type=click.IntRange(0, 100_000),
    default=60,
    show_default=True,
    help="reports to generate when the database has none",
)
@click.option(
    "--registry-only",
    is_flag=True,
    help="only the instansi registry: no demo users or reports (production)",
)
def seed(demo_reports: int, registry_only: bool) -> None:
    """Load the instansi registry, demo users and demo reports into an empty database."""
    import sla
    from engine import devdata
    from engine.seed import loader

    sla.install()

    with _sessions(_settings().DATABASE_URL) as factory:
        with factory() as session, session.begin():
            if loader.registry_loaded(session):
                click.echo("registry already loaded")
            else:
                loader.load_registry(session)
                click.echo("loaded regions, instansi and units")
            if registry_only:
                return
            created = loader.load_demo_users(session)
            has_reports = loader.reports_exist(session)
        if created:
            click.echo(f"created demo users: {', '.join(created)}")
        if demo_reports and not has_reports:
            if not loader.processes_deployed(factory):
                _deploy_national(factory)
            devdata.generate(factory, count=demo_reports)
            click.echo(f"generated {demo_reports} demo reports")


def _deploy_national(factory: sessionmaker) -> None:
    from engine.services import definitions

    with factory() as session, session.begin():
        for d in definitions.deploy_national(session, Path(_settings().BPMN_DIR)):
            click.echo(f"{d.key} v{d.version} ({d.checksum[:12]})")


@click.command()
def deploy() -> None:
    """Deploy the national intake and default SOP from bpmn/ (unchanged files are skipped)."""
    with _sessions(_settings().DATABASE_URL) as factory:
        _deploy_national(factory)


main.add_command(deploy, "deploy")  # `lapor deploy`, as the Makefile and Dockerfile call it


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--with-scheduler/--no-scheduler", default=True, show_default=True)
def serve(host: str, port: int, with_scheduler: bool) -> None:
    """Start the web server (and the scheduler in the same process)."""
    from api import create_app
    from api.db import db as database
    from engine.seed.loader import DEMO_PASSWORD, DEMO_USERS
    from sla.scheduler import build_scheduler

    app = create_app()
    settings = app.config["LAPOR"]
    scheduler = (
        build_scheduler(
            database.factory(app),
            audit_key=settings.AUDIT_KEY.encode(),
            audit_anchor=settings.AUDIT_ANCHOR_PATH,
            retention=cli_privacy.policy_of(settings),
            export_dir=settings.EXPORT_DIR,
            heartbeat_seconds=settings.SCHEDULER_HEARTBEAT_SECONDS,
        )
        if with_scheduler
        else None
    )
    if scheduler is not None:
        scheduler.start()
    click.echo(f"\nLAPOR Flow is running on http://{host}:{port}")
    click.echo(f"API docs: http://{host}:{port}/api/docs")
    click.echo(f"Process designer: http://{host}:{port}/designer (staff login at /login)")
    click.echo(
        "Demo logins (password: "
        + DEMO_PASSWORD
        + "): "
        + ", ".join(u for u, _n, _r in DEMO_USERS)
        + "\n"
    )
    try:
        app.run(host=host, port=port, use_reloader=False, threaded=True)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


@main.command()
def scheduler() -> None:
    """Run the scheduler process alone (production runs it beside the web workers)."""
    import faulthandler
    import signal
    import threading

    from sla.scheduler import build_scheduler

    # a sweep longer than its 1 s interval makes APScheduler skip a tick: expected, not a warning
    logging.getLogger("apscheduler.executors.default").setLevel(logging.ERROR)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    settings = _settings()
    with _sessions(settings.DATABASE_URL) as factory:
        if settings.TEST_CLOCK:
            from sla import shared_clock

            shared_clock.enable(factory)
        running = build_scheduler(
            factory,
            audit_key=settings.AUDIT_KEY.encode(),
            audit_anchor=settings.AUDIT_ANCHOR_PATH,
            retention=cli_privacy.policy_of(settings),
            export_dir=settings.EXPORT_DIR,
            heartbeat_seconds=settings.SCHEDULER_HEARTBEAT_SECONDS,
        )
        running.start()
        click.echo("scheduler running; Ctrl-C to stop")
        stop.wait()
        running.shutdown(wait=True)


@main.group()
def dev() -> None:
    """Development helpers."""


@dev.command("generate")
@click.option("--reports", "count", type=click.IntRange(1, 10_000_000), required=True)
@click.option("--seed", "seed_value", type=int, default=2026, show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=180, show_default=True)
def dev_generate(count: int, seed_value: int, days: int) -> None:
    """Create COUNT realistic reports across instansi, statuses and dates."""
    import sla
    from engine import devdata

    sla.install()

    with _sessions(_settings().DATABASE_URL) as factory, tqdm(total=count, unit="report") as bar:
        devdata.generate(
            factory,
            count=count,
            seed=seed_value,
            days=days,
            progress=lambda n: bar.update(n - bar.n),
        )
    click.echo(f"generated {count} reports")


from api import (  # noqa: E402  (the groups import this module's helpers)
    cli_audit,
    cli_bpmn,
    cli_calendar,
    cli_export,
    cli_privacy,
    cli_sla,
    cli_user,
)

cli_bpmn.bpmn.add_command(deploy, "deploy")  # `lapor bpmn deploy`, beside `lapor bpmn lint`
main.add_command(cli_sla.sla)
main.add_command(cli_bpmn.bpmn)
main.add_command(cli_audit.audit)
main.add_command(cli_privacy.privacy)
main.add_command(cli_user.user)
main.add_command(cli_calendar.calendar)
main.add_command(cli_export.export)

if __name__ == "__main__":
    main()
