"""Commands for notices: the delivery worker, the delivery record, subscribers and webhooks."""
from __future__ import annotations

import contextlib
import csv
import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from redline.notifications import fanout, outbox, subscribers, webhooks
from redline.notifications.config import NotifyConfig
from redline.notifications.mailers import make_mailer
from redline.policies.errors import RedlineError


def _open_db():
    from .cli import open_db
    return open_db()


def worker_db(db):
    """The worker's connection, committing without fsync (WAL, synchronous=NORMAL).

    A crashed process loses nothing this way; only a power cut can forget the last commits,
    and for the outbox that only ever means "sent" is forgotten, so the message goes again with
    the same Message-ID. Never "must be sent": the jobs are written by the publishing
    connection, with a full sync. Measured: about 2.5x the emails per second.
    """
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def _fan_out(db, cfg: NotifyConfig, quiet: bool) -> int:
    """Fan out pending jobs with a progress bar (on a terminal) for large user bases."""
    total = fanout.remaining(db)
    if quiet or total < cfg.notify_fanout_batch:
        # Still run: jobs with no one left to reach must be closed.
        return fanout.run_fanout(db, cfg.notify_fanout_batch)
    with click.progressbar(length=total, label="Fanning out", file=sys.stderr,
                           show_pos=True) as bar:
        return fanout.run_fanout(db, cfg.notify_fanout_batch, progress=bar.update)


def _send(db, worker: outbox.Worker, quiet: bool):
    due = db.execute("SELECT count(*) FROM deliveries WHERE status = 'pending' "
                     "AND next_attempt_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')").fetchone()[0]
    if quiet or due < worker.cfg.notify_send_batch:
        return worker.run_once()
    with click.progressbar(length=due, label="Sending", file=sys.stderr, show_pos=True) as bar:
        return worker.run_once(progress=bar.update)


def _report(created: int, totals, worker: outbox.Worker, quiet: bool) -> None:
    if worker.mail_down:
        click.echo(f"Mail server unreachable ({worker.mail_down}); "
                   "email deliveries wait and will be retried.", err=True)
    if quiet:
        return
    parts = [f"{totals[k]} {k}" for k in ("sent", "retry", "bounced", "failed", "suppressed", "cancelled")
             if totals[k]]
    click.echo(f"{created} notices fanned out; " + (", ".join(parts) or "nothing to send") + ".")


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event):
    """SIGTERM or Ctrl-C: finish the message in hand, give back the rest, exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.set())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("notify")
@click.option("--once", "mode", flag_value="once", default=True,
              help="Fan out and send what is due, then exit (the default).")
@click.option("--loop", "mode", flag_value="loop", help="Keep running: fan out and send as work arrives.")
@click.option("--quiet", is_flag=True, help="Print only problems.")
@with_appcontext
def notify_command(mode, quiet):
    """Tell everyone concerned of published versions: in-app notices, email, webhooks."""
    cfg = NotifyConfig.from_mapping(current_app.config)
    try:
        mailer = make_mailer(cfg)
    except ValueError as exc:
        raise click.ClickException(f"{exc} (see `redline settings`)") from exc
    db = worker_db(_open_db())
    stop = threading.Event()
    worker = outbox.Worker(db, cfg, mailer, stop=stop)
    try:
        with _stop_on_signals(stop):
            _work(db, cfg, worker, mode, quiet)
    finally:
        db.close()


def _work(db, cfg: NotifyConfig, worker: outbox.Worker, mode: str, quiet: bool) -> None:
    idle = cfg.notify_poll_seconds
    while not worker.stop.is_set():
        created = _fan_out(db, cfg, quiet)
        totals = _send(db, worker, quiet)
        # In a loop, say nothing when there was nothing to do.
        _report(created, totals, worker, quiet or (mode == "loop" and not created and not totals))
        if mode == "once":
            if worker.mail_down:
                sys.exit(75)  # EX_TEMPFAIL: a scheduler may run it again later
            return
        # While the mail server is down, look again less and less often, up to the retry cap.
        idle = min(idle * 2, cfg.notify_retry_cap_seconds) if worker.mail_down else cfg.notify_poll_seconds
        worker.stop.wait(idle)


@click.command("deliveries")
@click.argument("slug", required=False)
@click.argument("version", type=int, required=False)
@click.option("--csv", "as_csv", is_flag=True, help="Every recipient of SLUG VERSION as CSV: the record of who was told, when.")
@with_appcontext
def deliveries_command(slug, version, as_csv):
    """Delivery counts per version, or (with --csv) every recipient of one version."""
    db = _open_db()
    if as_csv:
        if not (slug and version):
            raise click.UsageError("--csv needs a policy slug and a version number")
        _write_csv(db, NotifyConfig.from_mapping(current_app.config), slug, version)
        return
    rows = db.execute("SELECT policy, version, status, count(*) FROM deliveries WHERE channel != 'confirm' "
                      + ("AND policy = ? " if slug else "") + "GROUP BY policy, version, status "
                      "ORDER BY policy, version", [slug] if slug else []).fetchall()
    if not rows:
        click.echo("No deliveries yet.")
    table: dict = {}
    for policy, number, status, n in rows:
        table.setdefault((policy, number), {})[status] = n
    for (policy, number), counts in table.items():
        click.echo(f"{policy} v{number}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    for row in outbox.failures(db, slug, limit=10):
        click.echo(f"  {row['status']}: {row['channel']} to {row['recipient']} after "
                   f"{row['attempts']} attempts: {row['last_error']}")


def _write_csv(db, cfg: NotifyConfig, slug: str, version: int) -> None:
    from redline.notifications.emails import message_id
    out = csv.writer(sys.stdout)
    out.writerow(["channel", "recipient", "status", "attempts", "sent_at", "message_id", "last_error"])
    for r in db.query("SELECT * FROM deliveries WHERE policy = ? AND version = ? ORDER BY id", [slug, version]):
        mid = message_id(cfg, slug, version, "email", r["recipient"]) if r["channel"] == "email" else ""
        out.writerow([r["channel"], r["recipient"], r["status"], r["attempts"], r["sent_at"] or "",
                      mid, r["last_error"]])
    for r in db.query("SELECT u.email, n.created_at, n.read_at, k.acknowledged_at FROM notices n "
                      "JOIN users u ON u.id = n.user_id LEFT JOIN acknowledgements k ON "
                      "k.user_id = n.user_id AND k.policy = n.policy AND k.version = n.version "
                      "WHERE n.policy = ? AND n.version = ? ORDER BY n.id", [slug, version]):
        status = "acknowledged" if r["acknowledged_at"] else ("read" if r["read_at"] else "unread")
        out.writerow(["in-app", r["email"], status, "", r["created_at"], "", ""])


@click.group("subscribers")
def subscribers_group():
    """Visitors subscribed to policy changes by email."""


@subscribers_group.command("count")
@with_appcontext
def subscribers_count():
    """How many subscriptions are confirmed, waiting, or cancelled."""
    counts = subscribers.counts(_open_db())
    click.echo(", ".join(f"{n} {k}" for k, n in counts.items()))


@click.group("webhooks")
def webhooks_group():
    """Endpoints told of every published version by a signed HTTP POST."""


@webhooks_group.command("add")
@click.argument("url")
@click.option("--secret", default="", help="Shared secret for the signature (default: a random one, printed).")
@click.option("--material-only", is_flag=True, help="Only material versions.")
@click.option("--description", default="")
@with_appcontext
def webhooks_add(url, secret, material_only, description):
    """Register an endpoint."""
    try:
        endpoint = webhooks.add_endpoint(_open_db(), url, secret, description, material_only, "cli",
                                         allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    except RedlineError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"endpoint {endpoint['id']}: {endpoint['url']}\nsecret: {endpoint['secret']}")


@webhooks_group.command("list")
@with_appcontext
def webhooks_list():
    """Every endpoint with its delivery counts."""
    for e in webhooks.list_endpoints(_open_db()):
        state = "active" if e["active"] else "paused"
        click.echo(f"{e['id']}  {e['url']}  {state}  sent {e['sent']}, pending {e['pending']}, "
                   f"failed {e['failed']}")


COMMANDS = (notify_command, deliveries_command, subscribers_group, webhooks_group)
