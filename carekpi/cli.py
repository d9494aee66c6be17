"""The `carekpi` command line: each command parses options and calls one library function."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

import click
from pydantic import ValidationError

from carekpi import periods
from carekpi.settings import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise click.ClickException(f"settings are not valid:\n{exc}") from exc


def _engine(settings: Settings):
    from carekpi.warehouse import make_engine

    return make_engine(settings.database_url)


def _month(value: str | None) -> str | None:
    if value is not None and not periods.is_period(value):
        raise click.BadParameter(f"{value!r} is not a month written YYYY-MM")
    return value


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log each step.")
def cli(verbose: bool) -> None:
    """carekpi: integrated-care KPIs from feed files to a monthly dashboard."""
    from carekpi.logs import setup_logging

    setup_logging(logging.INFO if verbose else logging.WARNING)


@cli.group()
def db() -> None:
    """The warehouse schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the warehouse named by the settings."""
    from carekpi.migrate import current_revision, upgrade

    settings = _settings()
    engine = _engine(settings)
    upgrade(engine)
    click.echo(f"warehouse at revision {current_revision(engine)}: {engine.url!r}")


@cli.group()
def demo() -> None:
    """Synthetic feeds for the demo and the benchmarks."""


@demo.command("generate")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to write.")
@click.option("--scale", type=click.Choice(["area", "national"]), default="area")
@click.option("--months", type=click.IntRange(1, 120), default=36)
@click.option("--seed", type=int, default=20240401)
@click.option("--end-month", callback=lambda _c, _p, v: _month(v), default=None,
              help="Last month to write (YYYY-MM); default the last complete month.")
@click.option("--faults", is_flag=True, help="Also write a folder of bad files.")
def demo_generate(out: Path, scale: str, months: int, seed: int, end_month: str | None,
                  faults: bool) -> None:
    """Write synthetic feed files, in the layouts of feeds.md, into OUT/<feed>/."""
    from carekpi_demo import generate

    summary = generate(out, scale=scale, months=months, seed=seed, faults=faults,
                       end_month=end_month)
    click.echo(f"wrote {len(summary.files)} files to {out}")


@cli.group()
def etl() -> None:
    """Loading feed files into the warehouse."""


@etl.command("run")
@click.option("--inbox", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder with one sub-folder per feed (default: the settings' inbox).")
def etl_run(inbox: Path | None) -> None:
    """Load every waiting file once, rebuild the affected KPI mart, exit."""
    from carekpi.migrate import upgrade
    from etl.lock import etl_lock
    from etl.pipeline import run_inbox

    settings = _settings()
    engine = _engine(settings)
    stopping = _stop_on_signals()
    with etl_lock(engine, settings):
        upgrade(engine)  # inside the lock: two first runs never migrate at once
        summary = run_inbox(engine, settings, inbox=inbox, stop=stopping)
    for result in summary.results:
        if result.status == "loaded" and result.problems:
            click.echo(f"LOADED {result.file} with {len(result.problems)} row(s) set aside "
                       "(see the report beside the archived file)", err=True)
        if result.status == "refused":
            click.echo(f"REFUSED {result.file}:", err=True)
            for problem in result.problems[:20]:
                click.echo(f"  {problem}", err=True)
            if len(result.problems) > 20:
                click.echo(f"  ... {len(result.problems) - 20} more (see the quarantine report)",
                           err=True)
    click.echo(summary.describe())
    if summary.failed:
        sys.exit(1)


@etl.command("status")
@click.option("--limit", type=int, default=20)
def etl_status(limit: int) -> None:
    """Recent loads, files waiting, files quarantined."""
    from etl.status import describe_status

    settings = _settings()
    click.echo(describe_status(_engine(settings), settings, limit=limit))


@etl.command("schedule")
def etl_schedule() -> None:
    """Run the APScheduler schedule in the foreground until stopped."""
    from etl.scheduler import run_schedule

    settings = _settings()
    try:
        run_schedule(_engine(settings), settings)
    except ValueError as exc:  # a cron expression in the settings that does not parse
        raise click.ClickException(str(exc)) from exc


@cli.group()
def annotations() -> None:
    """Notes on charts (a service started) and SPC rebase points."""


@annotations.command("load")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def annotations_load(file: Path) -> None:
    """Replace the annotations with FILE's (org_code, period, text[, kpi_id, rebase])."""
    from etl.annotations import load_annotations
    from etl.mart import rebuild_mart
    from etl.problems import FeedError

    settings = _settings()
    engine = _engine(settings)
    try:
        count = load_annotations(engine, file)
    except FeedError as exc:
        raise click.ClickException(f"{file} refused:\n{exc.summary()}") from exc
    rebuild_mart(engine, None, settings=settings)
    click.echo(f"{count} annotations loaded; SPC limits recalculated")


@cli.command("export")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--kpi", "kpi_id", default=None, help="One KPI id (default: all).")
@click.option("--level", type=click.Choice(["practice", "network", "place", "system"]))
@click.option("--from", "from_month", callback=lambda _c, _p, v: _month(v), default=None)
@click.option("--to", "to_month", callback=lambda _c, _p, v: _month(v), default=None)
@click.option("--no-suppress", is_flag=True, help="Write small counts as they are.")
def export(out: Path, kpi_id: str | None, level: str | None, from_month: str | None,
           to_month: str | None, no_suppress: bool) -> None:
    """Write KPI mart rows as CSV for analysts (small numbers suppressed)."""
    from etl.export import export_mart

    settings = _settings()
    rows = export_mart(_engine(settings), out, kpi_id=kpi_id, level=level,
                       from_month=from_month, to_month=to_month, suppress=not no_suppress)
    click.echo(f"wrote {rows} rows to {out}")


@cli.command("payments")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--year", default=None, help="Financial year, e.g. 2024/25 (default: all).")
def payments(out: Path, year: str | None) -> None:
    """Write each network's care-package payment position by quarter (kpis.md) as CSV."""
    from etl.export import payment_status
    from kpi.payment import read_payment_terms

    settings = _settings()
    try:
        terms = read_payment_terms(settings.payment_terms_file) \
            if settings.payment_terms_file else None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    view = payment_status(_engine(settings), terms, year=year)
    view.to_csv(out, index=False)
    click.echo(f"wrote {len(view)} rows to {out}")


@cli.group()
def users() -> None:
    """Dashboard users and their roles (viewer, data-manager)."""


def _users_call(func, *args) -> None:
    from carekpi.users import UserError

    try:
        func(_engine(_settings()), *args)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["viewer", "data-manager"]), default="viewer")
@click.password_option(help="Asked for when not given (at least 12 characters).")
def users_add(username: str, role: str, password: str) -> None:
    """Add a user who signs in with a password."""
    from carekpi.users import add_user

    _users_call(add_user, username, password, role)
    click.echo(f"user {username} added as {role}")


@users.command("remove")
@click.argument("username")
def users_remove(username: str) -> None:
    """Remove a user; their sessions end at their next request."""
    from carekpi.users import remove_user

    _users_call(remove_user, username)
    click.echo(f"user {username} removed")


@users.command("set-password")
@click.argument("username")
@click.password_option(help="Asked for when not given (at least 12 characters).")
def users_set_password(username: str, password: str) -> None:
    """Give a user a new password; their other sessions end."""
    from carekpi.users import set_password

    _users_call(set_password, username, password)
    click.echo(f"password of {username} changed")


@users.command("list")
def users_list() -> None:
    """Every user and role."""
    from carekpi.users import list_users

    for name, role in list_users(_engine(_settings())):
        click.echo(f"{name}\t{role}")


@cli.command("report")
@click.option("--month", callback=lambda _c, _p, v: _month(v), required=True,
              help="The month the pack reports (YYYY-MM).")
@click.option("--org", "org_code", default=None, help="Organisation code (default: the area).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The HTML file to write.")
def report(month: str, org_code: str | None, out: Path) -> None:
    """Write the monthly board pack: one self-contained HTML file that prints to A4 PDF."""
    from dashboard.report import write_board_pack

    settings = _settings()
    try:
        pack = write_board_pack(_engine(settings), month, out, org_code)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {out}: {len(pack.kpi_ids)} KPIs, {out.stat().st_size / 1e6:.1f} MB "
               f"in {pack.seconds:.1f} s")


@annotations.command("propose")
@click.option("--org", "org_code", required=True, help="Organisation code.")
@click.option("--month", callback=lambda _c, _p, v: _month(v), default=None,
              help="Judge the series up to this month (default: the latest).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the proposals as an annotations CSV to review and load.")
def annotations_propose(org_code: str, month: str | None, out: Path | None) -> None:
    """Propose a rebase at the start of each sustained shift (MDC); never applied by itself."""
    from dashboard.proposals import annotations_with, propose_rebases

    settings = _settings()
    proposals = propose_rebases(_engine(settings), org_code, month)
    if proposals.empty:
        click.echo(f"no sustained shift in {org_code}'s latest months: nothing to propose")
        return
    for row in proposals.itertuples(index=False):
        click.echo(f"{row.kpi_id}: rebase at {row.period} ({row.text})")
    if out is not None:
        annotations_with(_engine(settings), proposals).to_csv(out, index=False)
        click.echo(f"wrote every annotation plus {len(proposals)} proposals to {out}: review "
                   f"it, then 'carekpi annotations load {out}' to accept them")


@cli.command("impact")
@click.option("--kpi", "kpi_id", required=True,
              help="A count KPI: ea_rate, ea_bed_days_65, dtoc_rate, care_home_admissions_65.")
@click.option("--org", "org_code", required=True, help="Organisation code.")
@click.option("--start", callback=lambda _c, _p, v: _month(v), default=None,
              help="Programme start (YYYY-MM); default the annotation's month.")
@click.option("--annotation", "annotation_id", type=int, default=None,
              help="Take the start from this annotation (default: the org's latest).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="CSV to write (default: standard output).")
def impact(kpi_id: str, org_code: str, start: str | None, annotation_id: int | None,
           out: Path | None) -> None:
    """Actual against the projected baseline, month by month, as CSV (small numbers '*')."""
    from carekpi.impact import impact_csv, programme_impact, programme_start
    from kpi.impact import ImpactError, Tariff, is_significant

    settings = _settings()
    engine = _engine(settings)
    tariff = Tariff(settings.tariff_emergency_admission, settings.tariff_bed_day)
    try:
        start = start or programme_start(engine, org_code, kpi_id, annotation_id)
        result = programme_impact(engine, kpi_id, org_code, start, tariff)
    except ImpactError as exc:
        raise click.ClickException(str(exc)) from exc
    table = impact_csv(result)
    if out is None:
        click.echo(table.to_csv(index=False), nl=False)
        return
    table.to_csv(out, index=False)
    last = result.dropna(subset=["cumulative_difference"])
    if last.empty:
        click.echo(f"wrote {len(table)} months to {out} (cumulative figures suppressed)")
        return
    row = last.iloc[-1]
    verdict = "significant" if is_significant(result) else "not significant"
    click.echo(f"wrote {len(table)} months to {out}; from {start} to {row['month']}: "
               f"cumulative difference {row['cumulative_difference']:+,.0f} (95% interval "
               f"{row['cumulative_lower']:+,.0f} to {row['cumulative_upper']:+,.0f}, {verdict}); "
               "an estimate against a projection, not proof of cause")


@cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=8050)
@click.option("--debug", is_flag=True)
def serve(host: str, port: int, debug: bool) -> None:
    """Serve the dashboard (development server; production: gunicorn dashboard.app:server)."""
    from dashboard.app import create_app

    settings = _settings()
    if settings.auth == "none" and host not in ("127.0.0.1", "localhost", "::1"):
        raise click.ClickException("without sign-in (CAREKPI_AUTH=none) the dashboard serves "
                                   "127.0.0.1 only")
    app = create_app(settings)
    click.echo(f"dashboard on http://{host}:{port}")
    app.run(host=host, port=port, debug=debug)


def _stop_on_signals():
    """A flag set by SIGTERM/SIGINT, so a run stops between files, never mid-transaction."""
    state = {"stop": False}

    def handler(signum, _frame):
        state["stop"] = True
        click.echo(f"signal {signum}: stopping after the current file", err=True)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
    return lambda: state["stop"]
