"""`redline user`, `redline export` and `redline import-git`: staff accounts and policies as code."""
from __future__ import annotations

import getpass
import time

import click
from flask.cli import with_appcontext

from redline.notifications.fanout import record_publish
from redline.policies import exporter, gitimport, roles, users
from redline.policies.audit import Actor
from redline.policies.errors import RedlineError

from .cli import open_db

def _operator() -> Actor:
    try:
        return Actor.command(getpass.getuser())
    except (KeyError, OSError):  # no login name in some containers
        return Actor.command()


def _read_password(password_file) -> str:
    if password_file is None:
        return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    text = password_file.read()
    lines = text.splitlines()
    return lines[0] if lines else ""


@click.group("user")
def user_group():
    """Staff accounts: add editors and admins, change roles, list them."""


@user_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["editor", "admin", "reader"]), required=True,
              help="editor: drafts and publishes; admin: also roles, audit log, ledger export.")
@click.option("--password-file", type=click.File("r", encoding="utf-8"),
              help="Read the password from the first line of this file ('-' for standard input) "
                   "instead of prompting.")
@click.option("--name", "display_name", default="",
              help="Display name, shown as the author of the versions they publish "
                   "(default: the part of the address before the @).")
@with_appcontext
def user_add_command(email, role, password_file, display_name):
    """Add a user with a role; asks for the password twice unless --password-file is given."""
    db = open_db()
    try:
        users.validate_email(email)
        if users.by_email(db, email):
            raise click.ClickException(f"A user with email {email} already exists: change their "
                                       "role with `redline user role EMAIL ROLE`. Nobody was added.")
        password = users.validate_password(_read_password(password_file), email)
        # scrypt is slow on purpose: hash before the write transaction starts.
        member = roles.add_user(db, _operator(), email, users.hash_password(password), role,
                                display_name)
    except RedlineError as exc:
        raise click.ClickException(f"{exc} Nobody was added.") from exc
    click.echo(f"Added {member.email} as {member.role}.")


@user_group.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(roles.ROLES))
@with_appcontext
def user_role_command(email, role):
    """Change the role of the user with EMAIL."""
    db = open_db()
    row = db.execute("SELECT id FROM users WHERE email = ?", [email]).fetchone()
    if row is None:
        raise click.ClickException(f"No user with email {email}.")
    try:
        member = roles.set_role(db, _operator(), row[0], role)
    except RedlineError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{member.email} is now {member.role}.")


@user_group.command("list")
@click.option("--staff", is_flag=True, help="Only editors and admins.")
@with_appcontext
def user_list_command(staff):
    """List users with their roles."""
    for m in roles.members(open_db()):
        if staff and not roles.can_edit(m.role):
            continue
        click.echo(f"{m.role:<7} {m.email}{'' if m.active else '  (inactive)'}")


@click.command("export")
@click.argument("folder", type=click.Path(file_okay=False))
@with_appcontext
def export_command(folder):
    """Write every policy and version to FOLDER in the format `redline import` reads."""
    try:
        result = exporter.export_dir(open_db(), folder)
    except RedlineError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in result.written:
        click.echo(f"wrote {path}")
    click.echo(f"{len(result.written)} files written, {len(result.unchanged)} already up to date.")


@click.command("import-git")
@click.argument("repo", type=click.Path(file_okay=False, exists=True))
@click.argument("path")
@click.option("--slug", required=True, help="The policy's slug ([a-z0-9-]).")
@click.option("--title", help="The policy's title (default: the document's first heading).")
@click.option("--mode", type=click.Choice(["required", "notice"]), default="notice", show_default=True,
              help="Acceptance mode if the policy is new.")
@click.option("--material-commits", default="", metavar="SHA,...",
              help="Commits whose version is material (their subject becomes the summary).")
@click.option("--rev", default="HEAD", show_default=True, help="Branch or commit whose history to read.")
@with_appcontext
def import_git_command(repo, path, slug, title, mode, material_commits, rev):
    """Import the history of PATH in the git repository REPO as versions of a policy."""
    shas = [s.strip() for s in material_commits.split(",") if s.strip()]
    started = time.perf_counter()
    try:
        result = gitimport.import_git(open_db(), repo, path, slug, title=title, mode=mode,
                                      material_commits=shas, rev=rev, on_publish=record_publish)
    except RedlineError as exc:
        raise click.ClickException(f"{exc}\nNothing was imported.") from exc
    if result.created:
        click.echo(f"new policy: {slug} ({mode})")
    for v in result.published:
        click.echo(f"published: {slug} v{v.number} {v.effective_at:%Y-%m-%d} "
                   f"({'material' if v.material else 'minor'})")
    click.echo(f"{result.commits} commits read: {len(result.published)} new versions, "
               f"{result.already} already imported, {len(result.skipped)} without a new text "
               f"({time.perf_counter() - started:.2f} s).")
    if any(v.material for v in result.published):
        click.echo("Notices of the material versions are queued: `redline notify` sends them.")


COMMANDS = (user_group, export_command, import_git_command)
