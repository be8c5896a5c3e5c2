"""The redline pages: any two versions, inline, side by side or as Markdown source."""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from redline.policies import diff as redline, store

from . import cache
from .changes import demote
from .app import get_db
from .public import policy_or_404, version_or_404

bp = Blueprint("compare", __name__)
VIEWS = ("inline", "split", "source")
RANGE = re.compile(r"^([^.]+)\.\.([^.]+)$")


def diff_url(slug: str, a: int, b: int, view: str = "inline") -> str:
    """The path form of a diff view: the same in the app and in the frozen archive."""
    if view == "inline":
        return url_for("compare.diff", slug=slug, spec=f"{a}..{b}")
    return url_for("compare.diff_view", slug=slug, spec=f"{a}..{b}", view=view)


@bp.get("/<slug>/diff/<spec>/")
def diff(slug, spec):
    return _diff(slug, spec, request.args.get("view", "inline"))


@bp.get("/<slug>/diff/<spec>/<view>/")
def diff_view(slug, spec, view):
    return _diff(slug, spec, view)


def _diff(slug: str, spec: str, view: str):
    pol = policy_or_404(slug)
    match = RANGE.match(spec)
    if not match:
        abort(404, description=f"“{spec}” is not a range of versions: use A..B, for example 1..2.")
    if view not in VIEWS:
        abort(404, description=f"“{view}” is not a view: choose inline, split or source.")
    old, new = version_or_404(slug, match.group(1)), version_or_404(slug, match.group(2))
    if old.number > new.number:
        return redirect(diff_url(slug, new.number, old.number, view), 301)
    if spec != f"{old.number}..{new.number}":
        return redirect(diff_url(slug, old.number, new.number, view), 301)
    key = ("diff", current_app.config["DATABASE"], request.full_path, old.sha256, new.sha256, view)

    def page():
        return render_template("diff.html", **_context(pol, old, new, view))
    if not session:
        return cache.fragment(key, page)
    return page()


def _context(pol: store.Policy, old: store.Version, new: store.Version, view: str) -> dict:
    between = store.versions(get_db(), pol.slug, after=old.number, upto=new.number)
    ctx = {"policy": pol, "old": old, "new": new, "view": view, "between": between,
           "views": {v: diff_url(pol.slug, old.number, new.number, v) for v in VIEWS},
           "result": None, "body": ""}
    if old.number == new.number:
        return ctx
    result = redline.compare(old.body, new.body)
    ctx["result"] = result
    if view == "source":
        ctx["body"] = redline.render_source_html(redline.source_diff(old.body, new.body))
    else:
        # Under the page's own h1, the policy's headings move down one level.
        ctx["body"] = demote(redline.render_html(result, view=view), 1)
    return ctx


@bp.get("/<slug>/compare/")
def compare_form(slug):
    """The history page's compare form (plain GET, works without JavaScript)."""
    policy_or_404(slug)
    a, b = request.args.get("from", ""), request.args.get("to", "")
    va, vb = version_or_404(slug, a), version_or_404(slug, b)
    lo, hi = sorted((va.number, vb.number))
    return redirect(diff_url(slug, lo, hi, request.args.get("view", "inline")))
