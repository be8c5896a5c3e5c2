"""Static files under fingerprinted names (site.3f2a9c01d4.css), cacheable for a year.

`url_for('static', filename='site.css')` and the `static_url('site.css')` template global both
give the fingerprinted address, so the app and the frozen archive reference the same names.
A changed file gets a new name, so browsers and CDNs never keep a stale copy.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath

from flask import Flask, current_app, send_from_directory, url_for
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

DIGEST_LENGTH = 10
FINGERPRINTED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{%d})(?P<ext>\.[A-Za-z0-9]+)?$"
                           % DIGEST_LENGTH)
LONG_CACHE = "public, max-age=31536000, immutable"


class Assets:
    """The static folder, with a content digest per file (recomputed when a file changes)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._digests: dict[str, tuple[float, int, str]] = {}

    def path(self, name: str) -> Path | None:
        joined = safe_join(str(self.folder), name)
        return Path(joined) if joined and Path(joined).is_file() else None

    def digest(self, name: str) -> str | None:
        """The first hex digits of the file's SHA-256, or None when there is no such file."""
        path = self.path(name)
        if path is None:
            return None
        stat = path.stat()
        cached = self._digests.get(name)
        if cached and cached[:2] == (stat.st_mtime, stat.st_size):
            return cached[2]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:DIGEST_LENGTH]
        self._digests[name] = (stat.st_mtime, stat.st_size, digest)
        return digest

    def fingerprinted(self, name: str) -> str:
        """site.css -> site.<digest>.css; a name that is not a file is returned as it is."""
        digest = self.digest(name)
        if digest is None:
            return name
        pure = PurePosixPath(name)
        return str(pure.with_name(f"{pure.stem}.{digest}{pure.suffix}"))

    def files(self) -> list[str]:
        """Every file of the static folder, as names relative to it, sorted."""
        return sorted(p.relative_to(self.folder).as_posix()
                      for p in self.folder.rglob("*") if p.is_file())


def _assets() -> Assets:
    return current_app.extensions["redline.assets"]


def static_url(filename: str) -> str:
    """Template global: the fingerprinted address of a static file."""
    return url_for("static", filename=filename)


def _fingerprint_static(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values:
        values["filename"] = _assets().fingerprinted(values["filename"])


def serve(filename: str):
    """The static view: a fingerprinted name is cached for a year, a plain one revalidated."""
    assets = _assets()
    match = FINGERPRINTED.match(PurePosixPath(filename).name)
    if match and assets.path(filename) is None:
        real = str(PurePosixPath(filename).with_name(match["stem"] + (match["ext"] or "")))
        if assets.digest(real) is not None:
            response = send_from_directory(assets.folder, real)
            if assets.digest(real) == match["digest"]:
                response.headers["Cache-Control"] = LONG_CACHE
            return response
    if assets.path(filename) is None:
        raise NotFound()
    return send_from_directory(assets.folder, filename)


def init_app(app: Flask) -> None:
    """Serve and address static files by fingerprinted names."""
    app.extensions["redline.assets"] = Assets(app.static_folder)
    app.url_defaults(_fingerprint_static)
    app.view_functions["static"] = serve
    app.add_template_global(static_url)
