"""Freeze time of the public archive (files, seconds, MB), for the demo content and for the
53-version GitHub Terms of Service corpus imported as one policy, beside two anchors measured
in the same run: rendering the frozen pages' Markdown alone, computing their redlines alone,
and copying the output tree.
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
from redline.site.freeze import diff_pairs, freeze  # noqa: E402

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


def timed(fn) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of REPEAT calls (CPU time is steadier on a busy machine)."""
    walls, cpus = [], []
    for _ in range(REPEAT):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def cold(fn):
    """fn, run with every render cache empty, as on a fresh build machine."""
    def run():
        store._render_cached.cache_clear()
        diff.clear_caches()
        cache.clear()
        fn()
    return run


def pages_of(app):
    """The versions behind the frozen pages, and the pairs behind the frozen redlines."""
    db = dbmod.connect(app.config["DATABASE"])
    bodies, pairs = [], []
    for policy in store.list_policies(db):
        versions = {v.number: v for v in store.versions(db, policy.slug)}
        current, upcoming = store.in_force(db, policy.slug), store.upcoming(db, policy.slug)
        bodies += [v.body for v in versions.values()] + [v.body for v in (current, upcoming) if v]
        pairs += [(versions[a], versions[b]) for a, b in
                  diff_pairs(sorted(versions), current.number if current else None)]
    db.close()
    return bodies, pairs


def markdown_alone(bodies):
    """Anchor: render the Markdown of every version page the freeze writes."""
    for body in bodies:
        render.render(body)


def redlines_alone(pairs):
    """Anchor: the redlines the freeze shows (three views of each pair), without Flask."""
    for old, new in pairs:
        result = diff.compare(old.body, new.body)
        diff.render_html(result, view="inline")
        diff.render_html(result, view="split")
        diff.render_source_html(diff.source_diff(old.body, new.body))


def measure(name: str, database: str) -> tuple:
    app = create_app({"DATABASE": database, "SECRET_KEY": "bench"})
    bodies, pairs = pages_of(app)
    with tempfile.TemporaryDirectory(prefix="redline-freeze-") as tmp:
        out = Path(tmp) / "site"
        result = freeze(app, out)
        wall, cpu = timed(cold(lambda: freeze(app, out)))
        anchors = {"markdown alone": timed(cold(lambda: markdown_alone(bodies))),
                   "redlines alone": timed(cold(lambda: redlines_alone(pairs))),
                   "copy the tree": timed(lambda: shutil.copytree(out, Path(tmp) / "copy",
                                                                  dirs_exist_ok=True))}
    print(f"{name}: {result.files} files, {result.bytes / 1e6:.1f} MB, "
          f"{wall:.2f} s wall ({cpu:.2f} s CPU)")
    for anchor, (a_wall, a_cpu) in anchors.items():
        print(f"    {anchor:15} {a_wall:7.3f} s wall ({a_cpu:6.3f} s CPU)   "
              f"freeze / anchor {wall / a_wall:5.1f}x wall, {cpu / a_cpu:5.1f}x CPU")
    return name, result.files, result.bytes, wall, cpu, anchors


def main() -> list[tuple]:
    rows = []
    print(f"medians of {REPEAT} runs, render and redline caches emptied before each")
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
