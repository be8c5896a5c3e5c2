"""Freeze time of the public archive (files, seconds, MB), for the demo content and for the
53-version GitHub Terms of Service corpus imported as one policy, beside two anchors measured
in the same run: rendering the frozen pages' Markdown alone, and copying the output tree.
The redline pages (each consecutive pair and every version against the one in force, three
views each) are most of the pages and most of the time."""
from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, demo_database, tempdir  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))  # before bench/, whose redline.py would shadow the package

from redline.policies import db as dbmod  # noqa: E402
from redline.policies import diff, importer, render, store  # noqa: E402
from redline.policies.render import split_front_matter  # noqa: E402
from redline.site import cache, create_app  # noqa: E402
from redline.site.freeze import freeze  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "github-terms-of-service"
REPEAT = 3


def corpus_policies(folder: Path) -> Path:
    """The corpus in `redline import` format: one policy, a version per file, dated by its file."""
    policy = folder / "github-terms"
    policy.mkdir(parents=True)
    (policy / "policy.toml").write_text('title = "GitHub Terms of Service"\nacceptance = "notice"\n'
                                        'aliases = ["github-tos"]\n')
    for n, entry in enumerate(json.loads((CORPUS / "index.json").read_text()), start=1):
        _, body = split_front_matter((CORPUS / entry["file"]).read_text(encoding="utf-8"))
        summary = json.dumps(entry["subject"])
        (policy / f"v{n}.md").write_text(
            f"---\npublished: {entry['date']}\neffective: {entry['date']}\n"
            f"material: {'true' if n == 1 else 'false'}\nsummary: {summary}\n---\n{body}",
            encoding="utf-8")
    return folder


def import_into(folder: str, policies: Path) -> str:
    path = os.path.join(folder, "redline.db")
    db = dbmod.connect(path)
    from redline.policies import schema
    schema.migrate(db)
    importer.import_dir(db, policies)
    db.close()
    return path


def cold_freeze(app, out: Path):
    """One freeze with every render cache empty, as on a fresh build machine."""
    store._render_cached.cache_clear()
    diff.clear_caches()
    cache.clear()
    return freeze(app, out)


def markdown_alone(app) -> float:
    """Anchor: render, uncached, the Markdown of every version page the freeze writes."""
    db = dbmod.connect(app.config["DATABASE"])
    bodies = []
    for policy in store.list_policies(db):
        versions = store.versions(db, policy.slug)
        bodies += [v.body for v in versions]
        bodies += [v.body for v in (store.in_force(db, policy.slug), store.upcoming(db, policy.slug)) if v]
    db.close()
    start = time.perf_counter()
    for body in bodies:
        render.render(body)
    return time.perf_counter() - start


def measure(name: str, database: str) -> tuple:
    app = create_app({"DATABASE": database, "SECRET_KEY": "bench"})
    with tempfile.TemporaryDirectory(prefix="redline-freeze-") as tmp:
        runs, result = [], None
        for i in range(REPEAT):
            result = cold_freeze(app, Path(tmp) / "site")
            runs.append(result.seconds)
        seconds = statistics.median(runs)
        md = statistics.median(markdown_alone(app) for _ in range(REPEAT))
        copies = []
        for i in range(REPEAT):
            start = time.perf_counter()
            shutil.copytree(result.out, Path(tmp) / f"copy{i}")
            copies.append(time.perf_counter() - start)
        copy = statistics.median(copies)
    print(f"{name:34} {result.files:5d} files {result.bytes / 1e6:7.1f} MB {seconds:7.2f} s   "
          f"markdown alone {md:6.3f} s ({seconds / md:5.1f}x)   copy tree {copy:6.3f} s "
          f"({seconds / copy:6.1f}x)")
    return name, result.files, result.bytes, seconds, md, copy


def main() -> list[tuple]:
    rows = []
    print(f"median of {REPEAT} cold freezes (render caches emptied before each)")
    with tempdir() as folder:
        rows.append(measure("demo content (policies/)", demo_database(folder)))
    if not (CORPUS / "index.json").is_file():
        print(f"skipped: no corpus at {CORPUS}")
        return rows
    with tempdir() as folder:
        policies = corpus_policies(Path(folder) / "policies")
        rows.append(measure("GitHub ToS corpus (53 versions)", import_into(folder, policies)))
    return rows


if __name__ == "__main__":
    main()
