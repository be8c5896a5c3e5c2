"""`redline freeze OUT`: the public archive as static files, at the same URLs as the app.

Every page is rendered by the app itself (a request context per URL) with `g.frozen` set and
"now" pinned, so two freezes of the same database at the same moment are byte-identical.
To freeze a new kind of page, list its URLs in `archive_urls`.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask, current_app, g, request, url_for
from werkzeug.exceptions import HTTPException, NotFound

from redline.policies import clock, store
from redline.policies.errors import RedlineError

from .app import get_db
from .compare import VIEWS, diff_url

MARKER = ".redline-freeze"
MARKER_TEXT = "Written by `redline freeze`: this folder is replaced whole by each freeze.\n"
NOT_FOUND = ("This address is not part of the policy archive. Every policy, with all of its "
             "versions and what changed between them, is listed from the home page.")
CSRF = re.compile(rb"csrf[_-]token", re.I)
CONTENT_TYPES = {".html": "text/html", ".json": "application/json", ".atom": "application/atom+xml"}


class FreezeError(RedlineError):
    """A page cannot be part of the static archive (names the page and why)."""


@dataclass
class Frozen:
    """What a freeze wrote."""

    out: Path
    at: dt.datetime
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    next_change: store.Version | None = None
    paths: list[str] = field(default_factory=list)


def archive_urls(db, now: dt.datetime):
    """Every public URL of the archive as it stands at `now`."""
    yield url_for("public.index")
    yield url_for("api.policies")
    if _serves("follow.feed"):
        yield url_for("follow.feed")
    for policy in store.list_policies(db):
        yield from policy_urls(db, policy.slug, now)


def policy_urls(db, slug: str, now: dt.datetime):
    """One policy's pages: in force, history, upcoming, each version, the diffs, the JSON."""
    versions = store.versions(db, slug)
    current, upcoming = store.in_force(db, slug, now), store.upcoming(db, slug, now)
    if current or upcoming:
        yield url_for("public.policy", slug=slug)
    yield url_for("public.history", slug=slug)
    if upcoming:
        yield url_for("public.upcoming", slug=slug)
    yield url_for("api.policy", slug=slug)
    if _serves("follow.policy_feed"):
        yield url_for("follow.policy_feed", slug=slug)
    for v in versions:
        yield url_for("public.version", slug=slug, number=v.number)
        yield url_for("api.version", slug=slug, number=str(v.number))
    for a, b in diff_pairs([v.number for v in versions], current.number if current else None):
        for view in VIEWS:
            yield diff_url(slug, a, b, view)


def _serves(endpoint: str) -> bool:
    """Whether the app has this page: the Atom feeds come with the `follow` blueprint."""
    return endpoint in current_app.view_functions


def diff_pairs(numbers: list[int], in_force: int | None) -> list[tuple[int, int]]:
    """Each consecutive pair, and every version against the one in force (older first)."""
    pairs = set(zip(numbers, numbers[1:]))
    if in_force is not None:
        pairs |= {(min(n, in_force), max(n, in_force)) for n in numbers if n != in_force}
    return sorted(pairs)


def output_path(url: str, script_root: str = "") -> str:
    """The file a URL is served from: /x/ -> x/index.html, /x/?view=split -> x/split/index.html."""
    parts = urlsplit(within(url, script_root))
    path = unquote(parts.path)
    if parts.query:
        query = parse_qs(parts.query)
        if set(query) != {"view"} or len(query["view"]) != 1 or not path.endswith("/"):
            raise FreezeError(f"{url}: a static site cannot serve a query string; "
                              "put it in the path (only ?view=NAME on a folder URL is mapped)")
        path += query["view"][0] + "/"
    if path.endswith("/"):
        path += "index.html"
    relative = PurePosixPath(path.lstrip("/"))
    if not path.startswith("/") or any(part in ("", ".", "..") for part in relative.parts):
        raise FreezeError(f"{url}: not a path inside the site")
    return str(relative)


def within(url: str, script_root: str) -> str:
    """A URL of the site without the path the site is served under (BASE_URL's path, if any)."""
    return url[len(script_root):] if script_root and url.startswith(script_root + "/") else url


def render(app: Flask, url: str, at: dt.datetime, error: HTTPException | None = None) -> bytes:
    """One page as the app renders it for the frozen archive (or `error`'s page)."""
    with app.app_context(), app.test_request_context(url, base_url=app.config["BASE_URL"]):
        g.frozen, g.now = True, at
        try:
            if error is None:
                response = app.full_dispatch_request()
            else:
                response = app.finalize_request(app.handle_user_exception(error))
        except Exception as exc:
            raise FreezeError(f"{url}: the page failed to render: {exc!r}") from exc
        body = response.get_data()
        _check(url, response, body, 200 if error is None else error.code)
        return body


def _check(url: str, response, body: bytes, status: int) -> None:
    """Refuse what a static file cannot be: a redirect, an error, a cookie, a CSRF form."""
    if response.status_code != status:
        where = f" to {response.location}" if response.location else ""
        raise FreezeError(f"{url}: the app answered {response.status}{where}; "
                          "list only addresses that answer 200 OK")
    if response.mimetype == "text/html" and CSRF.search(body):
        raise FreezeError(f"{url}: the page contains a CSRF token; wrap its form in "
                          "{% if not frozen %} and link to the app with app_link()")
    if "Set-Cookie" in response.headers:
        raise FreezeError(f"{url}: the page sets a cookie; a frozen page cannot")
    expected = CONTENT_TYPES.get(PurePosixPath(output_path(url)).suffix)
    if expected and response.mimetype != expected:
        raise FreezeError(f"{url}: served as {response.mimetype} but its file would be "
                          f"served as {expected}")


def redirects(db) -> str:
    """Netlify `_redirects`: each policy alias to its policy."""
    lines = []
    for policy in store.list_policies(db):
        for alias in policy.aliases:
            lines += [f"/{alias} /{policy.slug}/ 301", f"/{alias}/ /{policy.slug}/ 301"]
    return "".join(line + "\n" for line in lines)


def next_change(db, now: dt.datetime) -> store.Version | None:
    """The next scheduled version to take effect: the frozen archive is stale from then on."""
    upcoming = [v for p in store.list_policies(db) if (v := store.upcoming(db, p.slug, now))]
    return min(upcoming, key=lambda v: (v.effective_at, v.policy), default=None)


def freeze(app: Flask, out: str | Path, at: dt.datetime | None = None) -> Frozen:
    """Write the whole public archive into `out`, replacing what a previous freeze wrote there."""
    started = time.perf_counter()
    out = Path(out).resolve()
    _check_target(out)
    at = clock.parse(at) if at is not None else clock.utcnow()
    result = Frozen(out=out, at=at)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for path, body in _files(app, at, result):
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            result.paths.append(path)
            result.files += 1
            result.bytes += len(body)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.seconds = time.perf_counter() - started
    return result


def _files(app: Flask, at: dt.datetime, result: Frozen):
    """(path, bytes) for every file of the archive, each path once."""
    with app.app_context(), app.test_request_context("/", base_url=app.config["BASE_URL"]):
        g.frozen, g.now = True, at
        db, root = get_db(), request.script_root
        urls = list(dict.fromkeys(archive_urls(db, at)))
        statics = {url_for("static", filename=name): name
                   for name in app.extensions["redline.assets"].files()}
        extra = {"_redirects": redirects(db).encode(), MARKER: MARKER_TEXT.encode()}
        result.next_change = next_change(db, at)
    for url in urls:
        yield output_path(url, root), render(app, within(url, root), at)
    yield "404.html", render(app, "/404.html", at, NotFound(NOT_FOUND))
    assets = app.extensions["redline.assets"]
    for url, name in statics.items():
        yield output_path(url, root), assets.path(name).read_bytes()
    yield from extra.items()


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise FreezeError(f"{out} is a file; give a folder for the archive")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise FreezeError(f"{out} is not empty and was not written by redline freeze; "
                          "give an empty or new folder (a freeze replaces the whole folder)")
    out.parent.mkdir(parents=True, exist_ok=True)


def _swap(staging: Path, out: Path) -> None:
    """Put the new tree in place in one rename, so a server never sees half an archive."""
    staging.chmod(0o755)
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old)
