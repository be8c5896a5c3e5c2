"""The machine-readable archive under /api/."""
from __future__ import annotations

from flask import Blueprint, url_for

from redline.policies import clock, store

from . import context
from .app import get_db
from .public import policy_or_404, version_or_404

bp = Blueprint("api", __name__, url_prefix="/api")


def version_summary(v: store.Version) -> dict:
    return {"number": v.number, "published_at": clock.to_text(v.published_at),
            "effective_at": clock.to_text(v.effective_at), "material": v.material,
            "summary": v.summary, "sha256": v.sha256,
            "url": url_for("public.version", slug=v.policy, number=v.number),
            "json": url_for("api.version", slug=v.policy, number=str(v.number))}


@bp.get("/policies.json")
def policies():
    db, now = get_db(), context.now()
    out = []
    for p in store.list_policies(db):
        current = store.in_force(db, p.slug, now)
        upcoming = store.upcoming(db, p.slug, now)
        out.append({"slug": p.slug, "title": p.title, "acceptance": p.mode,
                    "description": p.description,
                    "current_version": current.number if current else None,
                    "upcoming_version": upcoming.number if upcoming else None,
                    # No page until a version is published.
                    "url": url_for("public.policy", slug=p.slug) if current or upcoming else None,
                    "json": url_for("api.policy", slug=p.slug)})
    return {"policies": out}


@bp.get("/policies/<slug>.json")
def policy(slug):
    db, now = get_db(), context.now()
    p = policy_or_404(slug)
    current = store.in_force(db, slug, now)
    return {"slug": p.slug, "title": p.title, "acceptance": p.mode, "description": p.description,
            "current_version": current.number if current else None,
            "versions": [version_summary(v) for v in store.versions(db, slug)]}


@bp.get("/policies/<slug>/v/<number>.json")
def version(slug, number):
    policy_or_404(slug)
    v = version_or_404(slug, number)
    return {"policy": slug, **version_summary(v), "author": v.author,
            "body": v.body, "html": v.rendered.html}
