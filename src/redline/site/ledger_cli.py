"""`redline ledger verify` and `redline ledger export`."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from redline.policies import ledger


@click.group("ledger")
def ledger_group():
    """Check and export the acceptance ledger."""


@ledger_group.command("verify")
@with_appcontext
def verify_command():
    """Check the hash chain and every version hash; exit 1 naming the first broken row."""
    from .cli import open_db
    db = open_db()
    try:
        result = ledger.verify(db)
    finally:
        db.close()
    if result.ok:
        click.echo(f"Ledger intact: {result.count} acceptances; the hash chain and every "
                   "version hash check out.")
        return
    click.echo(f"Ledger broken at row {result.broken_id}: {result.reason}. "
               f"{result.count} rows before it check out.", err=True)
    sys.exit(1)


@ledger_group.command("export")
@click.option("--format", "fmt", type=click.Choice(ledger.FORMATS), required=True,
              help="csv, or jsonl (one JSON object per line).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="File to write (default: standard output).")
@with_appcontext
def export_command(fmt, output):
    """Write every acceptance, oldest first, with its hashes."""
    from .cli import open_db
    db = open_db()
    try:
        if output:
            with open(output, "w", encoding="utf-8", newline="") as out:
                count = ledger.export(db, fmt, out)
            click.echo(f"Exported {count} acceptances to {output}.", err=True)
        else:
            ledger.export(db, fmt, sys.stdout)
    finally:
        db.close()
