"""The `redline` command: a Flask CLI group."""
from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from redline.notifications.fanout import record_publish
from redline.policies import db as dbmod
from redline.policies import clock, importer, schema
from redline.policies.db import write
from redline.policies.errors import RedlineError

from . import settings


def open_db():
    """A connection to the configured database, for commands."""
    return dbmod.connect(current_app.config["DATABASE"])


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database file and apply every migration."""
    db = open_db()
    schema.migrate(db)
    click.echo(f"Database ready: {current_app.config['DATABASE']}")


@click.command("import")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--if-empty", is_flag=True, help="Only import when the database has no policies yet.")
@with_appcontext
def import_command(folder, if_empty):
    """Import policies from FOLDER (<slug>/policy.toml + v<N>.md); re-importing changes nothing."""
    db = open_db()
    if if_empty and db.execute("SELECT count(*) FROM policies").fetchone()[0]:
        click.echo("The database already has policies; nothing imported.")
        return
    try:
        # One transaction: the new versions and the notices they owe commit together, the
        # same as publishing in the editor. Sending happens later, in `redline notify`.
        with write(db):
            result = importer.import_dir(db, folder)
            for version in result.published:
                record_publish(db, version)
    except RedlineError as exc:
        raise click.ClickException(f"{exc}\nNothing was imported.") from exc
    for slug in result.policies_created:
        click.echo(f"new policy: {slug}")
    for v in result.published:
        click.echo(f"published: {v.policy} v{v.number} ({'material' if v.material else 'minor'}, "
                   f"effective {v.effective_at:%Y-%m-%d})")
    click.echo(f"{len(result.published)} new versions, {result.unchanged} unchanged.")
    if any(v.material for v in result.published):
        click.echo("Notices of the material versions are queued: `redline notify` sends them.")


@click.command("freeze")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--at", "at", metavar="TIME", help="Freeze the archive as it stands at TIME "
              "(YYYY-MM-DD or ISO 8601, UTC); default: now.")
@with_appcontext
def freeze_command(out, at):
    """Write the public archive into OUT as static files (for Netlify or any static host)."""
    from .freeze import freeze
    try:
        moment = clock.parse(at) if at else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from exc
    try:
        result = freeze(current_app._get_current_object(), out, moment)
    except RedlineError as exc:
        raise click.ClickException(f"{exc}\nNothing was written.") from exc
    click.echo(f"Froze {result.files} files ({result.bytes / 1e6:.1f} MB) into {result.out} "
               f"in {result.seconds:.2f} s, as of {clock.to_text(result.at)}.")
    if result.next_change:
        v = result.next_change
        click.echo(f"Next scheduled change: {v.policy} version {v.number} takes effect "
                   f"{clock.to_text(v.effective_at)}; freeze and publish again then.")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@with_appcontext
def backup_command(file, force):
    """Copy the live database to FILE (SQLite online backup: safe while the app runs)."""
    source = os.path.realpath(current_app.config["DATABASE"])
    if os.path.realpath(file) == source:
        raise click.ClickException("FILE is the database itself; give another path.")
    if os.path.exists(file) and not force:
        raise click.ClickException(f"{file} exists; use --force to replace it.")
    db = open_db()
    try:
        report = dbmod.backup(db, file)
    except dbmod.BackupError as exc:
        raise click.ClickException(f"{exc}\n{file} was left as it was.") from exc
    finally:
        db.close()
    click.echo(f"Backed up {source} to {file}: {report.bytes / 1e6:.1f} MB in {report.seconds:.2f} s, "
               f"integrity ok; {report.versions} versions, {report.acceptances} acceptances.")


@click.command("settings")
def settings_command():
    """List every setting with its default and help text."""
    click.echo(settings.describe())


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", 5000)), show_default="5000 or $PORT")
@click.option("--production", is_flag=True, help="Serve with gunicorn instead of the development server.")
@click.option("--workers", default=2, show_default=True, help="gunicorn workers (with --production).")
@with_appcontext
def serve_command(host, port, production, workers):
    """Serve the site on http://HOST:PORT."""
    if production:
        os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
                                   "--workers", str(workers), "--access-logfile", "-",
                                   "redline.site.wsgi:app"])
    from werkzeug.serving import run_simple
    # Flask ignores app.run() inside its own CLI, so serve the app with werkzeug directly.
    click.echo(f"Serving {current_app.config['SITE_NAME']} policies on http://{host}:{port}/")
    run_simple(host, port, current_app._get_current_object(), threaded=True)


def register_commands(app) -> None:
    from . import cli_editor
    from .ledger_cli import ledger_group
    from .notify_cli import COMMANDS as NOTIFY_COMMANDS
    for command in (init_db_command, import_command, settings_command, serve_command,
                    freeze_command, backup_command, ledger_group, *NOTIFY_COMMANDS,
                    *cli_editor.COMMANDS):
        app.cli.add_command(command)


def _create_app():
    from .app import create_app
    return create_app()


def main() -> None:
    FlaskGroup(create_app=_create_app, add_default_commands=False,
               add_version_option=False, load_dotenv=False,
               help="Redline: versioned legal policies and the record of who agreed to them.")()
