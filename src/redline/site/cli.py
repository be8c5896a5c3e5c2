"""The `redline` command: a Flask CLI group."""
from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from redline.notifications.fanout import record_publish
from redline.policies import db as dbmod
from redline.policies import importer, schema
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


@click.command("settings")
def settings_command():
    """List every setting with its default and help text."""
    click.echo(settings.describe())


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", 5000)), show_default="5000 or $PORT")
@click.option("--production", is_flag=True, help="Serve with gunicorn instead of the development server.")
@click.option("--workers", default=2, show_default=True, help="gunicorn workers (with --production).")
@with_appcontext
def serve_command(host, port, production, workers):
    """Serve the site on http://HOST:PORT."""
    if production:
        os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
                                   "--workers", str(workers), "--access-logfile", "-",
                                   "redline.site.wsgi:app"])
    current_app.run(host=host, port=port, debug=False, use_reloader=False)


def register_commands(app) -> None:
    from . import cli_editor
    from .ledger_cli import ledger_group
    from .notify_cli import COMMANDS as NOTIFY_COMMANDS
    for command in (init_db_command, import_command, settings_command, serve_command,
                    ledger_group, *NOTIFY_COMMANDS, *cli_editor.COMMANDS):
        app.cli.add_command(command)


def _create_app():
    from .app import create_app
    return create_app()


def main() -> None:
    FlaskGroup(create_app=_create_app, add_default_commands=False,
               add_version_option=False, load_dotenv=False,
               help="Redline: versioned legal policies and the record of who agreed to them.")()
