"""The public archive: index, policy in force, history, permalinks, dates, upcoming."""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from redline.policies import clock, store
from redline.policies.errors import NotFound

from . import cache, context
from .app import get_db

bp = Blueprint("public", __name__)
NUMBER = re.compile(r"^[1-9][0-9]{0,8}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def policy_or_404(slug: str) -> store.Policy:
    try:
        return store.get_policy(get_db(), slug)
    except NotFound:
        abort(404, description=f"There is no policy at “/{slug}/”.")


def version_or_404(slug: str, number: str) -> store.Version:
    if not NUMBER.match(number):
        abort(404, description=f"“{number}” is not a version number: versions are numbered 1, 2, 3 …")
    try:
        return store.get_version(get_db(), slug, int(number))
    except NotFound:
        abort(404, description=f"This policy has no version {number}.")


def _alias_target(slug: str) -> str | None:
    for policy in store.list_policies(get_db()):
        if slug in policy.aliases:
            return policy.slug
    return None


@bp.get("/")
def index():
    db, now = get_db(), context.now()
    rows = []
    for policy in store.list_policies(db):
        rows.append({"policy": policy, "current": store.in_force(db, policy.slug, now),
                     "upcoming": store.upcoming(db, policy.slug, now)})
    return render_template("index.html", rows=rows)


def render_policy_page(pol: store.Policy, shown: int, st: store.State, permalink: bool,
                       material: bool):
    """The policy page around a cached document fragment (versions never change)."""
    db, now = get_db(), context.now()
    key = ("doc", current_app.config["DATABASE"], pol.slug, shown, st, permalink, material,
           now.date())

    def build():
        def get(n):
            return store.get_version(db, pol.slug, n) if n else None
        version = get(shown)
        return render_template("_policy_doc.html", policy=pol, version=version,
                               current=get(st.current), upcoming=get(st.upcoming),
                               material=get(st.material) if material else None,
                               permalink=permalink)
    def page():
        return render_template("policy.html", policy=pol, doc=cache.fragment(key, build),
                               shown_number=shown, permalink=permalink,
                               upcoming_number=st.upcoming)
    if not session:
        # A visitor without a session sees exactly what every other visitor sees.
        return cache.fragment(key + ("page", request.full_path), page)
    return page()


@bp.get("/<slug>/")
def policy(slug):
    db = get_db()
    try:
        pol = store.get_policy(db, slug)
    except NotFound:
        target = _alias_target(slug)
        if target:
            return redirect(url_for("public.policy", slug=target), 301)
        abort(404, description=f"There is no policy at “/{slug}/”.")
    st = store.state(db, slug, context.now())
    if st.current is None and st.upcoming is None:
        abort(404, description="This policy has no published version yet.")
    return render_policy_page(pol, st.current or st.upcoming, st, permalink=False, material=True)


@bp.get("/<slug>/history/")
def history(slug):
    db, now = get_db(), context.now()
    pol = policy_or_404(slug)
    versions = store.versions(db, slug)
    current = store.in_force(db, slug, now)
    ranges = _effective_ranges(versions)
    return render_template("history.html", policy=pol, versions=list(reversed(versions)),
                           current=current, ranges=ranges, now=now)


def _effective_ranges(versions: list[store.Version]) -> dict[int, dt.datetime | None]:
    """For each version, when the next version took (or takes) over."""
    return {v.number: (versions[i + 1].effective_at if i + 1 < len(versions) else None)
            for i, v in enumerate(versions)}


@bp.get("/<slug>/v/<number>/")
def version(slug, number):
    pol = policy_or_404(slug)
    ver = version_or_404(slug, number)
    st = store.state(get_db(), slug, context.now())
    return render_policy_page(pol, ver.number, st, permalink=True, material=False)


@bp.get("/<slug>/at/<date>/")
def at(slug, date):
    policy_or_404(slug)
    if not DATE.match(date):
        abort(400, description=f"“{date}” is not a date: use YYYY-MM-DD, for example 2024-05-01.")
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        abort(400, description=f"“{date}” is not a real calendar date: use YYYY-MM-DD.")
    end_of_day = clock.parse(day) + dt.timedelta(days=1) - dt.timedelta(seconds=1)
    ver = store.in_force(get_db(), slug, end_of_day)
    if ver is None:
        abort(404, description=f"No version of this policy was in force on {date}: "
                               "the first version took effect later.")
    return redirect(url_for("public.version", slug=slug, number=ver.number))


@bp.get("/<slug>/upcoming/")
def upcoming(slug):
    pol = policy_or_404(slug)
    st = store.state(get_db(), slug, context.now())
    if st.upcoming is None:
        abort(404, description="No new version of this policy is scheduled.")
    return render_policy_page(pol, st.upcoming, st, permalink=True, material=False)


@bp.get("/healthz")
def healthz():
    """A trivial route: the anchor the page benchmark compares against."""
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
