"""Benchmark the redline against plain Markdown rendering.

    .venv/bin/python bench/redline.py [--runs N] [--verbose]

Cases: (1) the demo privacy policy's latest material change (or a synthetic ~16 KB
policy), (2) every consecutive pair of ../shared/corpus/github-terms-of-service/*.md
when that folder exists, (3) a synthetic 1 MB document with scattered edits and a
section moved far away.  For each: the median time of a redline (parse + diff +
render_html, caches cleared before every run) against the median time of
render.render() of the newer version (wall clock; CPU time in brackets, less
sensitive to other load on the machine).  Also counts words split by a change
across all cases (must be 0).  Targets: ratio <= 4 on (1) and on the corpus median;
(3) under 0.5 s.
"""
from __future__ import annotations

import argparse
import gc
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from redline.policies import render  # noqa: E402
from redline.policies.diff import clear_caches, compare, render_html  # noqa: E402

WORD = re.compile(r"\w")


def split_words(result) -> int:
    """Segment boundaries that fall inside a word, on either side of every block."""
    bad = 0
    for b in result.blocks:
        for segs in ([b.segments] if b.segments else []) + list(b.cells):
            for side in ("delete", "insert"):
                texts = [s.text for s in segs if s.op != side and s.text]
                for x, y in zip(texts, texts[1:]):
                    if WORD.match(x[-1]) and WORD.match(y[0]):
                        bad += 1
    return bad


def timed(fn, runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of fn(); caches are cleared (and the previous
    run's objects freed) before each run, outside the timed region."""
    wall, cpu = [], []
    for _ in range(runs):
        clear_caches()
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def redline_once(old: str, new: str):
    """Parse both versions, diff them, render the inline view (cold caches)."""
    result = compare(old, new)
    render_html(result)
    return result


def measure(name: str, old: str, new: str, runs: int) -> dict:
    clear_caches()
    result = redline_once(old, new)
    red, red_cpu = timed(lambda: redline_once(old, new), runs)
    ren, ren_cpu = timed(lambda: render.render(new), runs)
    return {"name": name, "kb": len(new.encode()) / 1024, "blocks": len(result.blocks),
            "changes": len(result.changes), "moves": len(result.moves), "notes": len(result.notes),
            "redline": red, "render": ren, "ratio": red / ren, "split": split_words(result),
            "redline_cpu": red_cpu, "render_cpu": ren_cpu, "ratio_cpu": red_cpu / ren_cpu}


# --------------------------------------------------------------------------- inputs

VOCAB = ("data personal information process purpose service account user provider third party "
         "consent request law legal basis retain delete transfer security measure contract we you "
         "our your may must will shall not any all such other including without limitation right "
         "access correct object restrict portability complaint authority controller processor "
         "subprocessor agreement term notice change effective date email address device browser "
         "cookie analytics marketing payment billing support content share disclose protect "
         "country region safeguard clause period reasonable necessary applicable").split()


def sentence(rng: random.Random, n: int | None = None) -> str:
    words = [rng.choice(VOCAB) for _ in range(n or rng.randint(8, 22))]
    words[0] = words[0].capitalize()
    s = " ".join(words)
    if rng.random() < 0.3:
        k = rng.randrange(len(words) - 1)
        s = s.replace(words[k] + " ", f"**{words[k]}** ", 1)
    if rng.random() < 0.15:
        s += f" See [details](https://example.com/{rng.choice(VOCAB)})"
    return s + rng.choice(".;.:.")


def paragraph(rng, sentences=None) -> str:
    text = " ".join(sentence(rng) for _ in range(sentences or rng.randint(2, 5)))
    out, line = [], ""
    for w in text.split(" "):  # wrap at ~78 columns like hand-written Markdown
        if len(line) + len(w) > 78:
            out.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    return "\n".join(out + [line])


def section(rng, number: int) -> str:
    parts = [f"## {number}. {sentence(rng, 3)[:-1]}"]
    for _ in range(rng.randint(2, 4)):
        r = rng.random()
        if r < 0.15:
            parts.append("\n".join(f"{k}. {sentence(rng)}" for k in range(1, rng.randint(3, 6))))
        elif r < 0.25:
            parts.append("\n".join(f"- {sentence(rng)}" for _ in range(rng.randint(2, 5))))
        elif r < 0.3:
            rows = "\n".join(f"| {rng.choice(VOCAB)} | {sentence(rng, 4)} |" for _ in range(3))
            parts.append("| Kind | Kept for |\n| --- | --- |\n" + rows)
        else:
            parts.append(paragraph(rng))
    return "\n\n".join(parts)


def synthetic(size: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    sections, total, k = [], 0, 1
    while total < size:
        s = section(rng, k)
        sections.append(s)
        total += len(s) + 2
        k += 1
    return sections


def edit(sections: list[str], rng: random.Random, edits: int, move: bool) -> list[str]:
    """Scattered word edits, an inserted and a deleted paragraph, one section moved far."""
    out = list(sections)
    for _ in range(edits):
        k = rng.randrange(len(out))
        words = out[k].split(" ")
        i = rng.randrange(1, len(words))
        if words[i].isalpha():
            words[i] = rng.choice(VOCAB)
        out[k] = " ".join(words)
    k = rng.randrange(len(out))
    out[k] += "\n\n" + paragraph(rng)
    k = rng.randrange(len(out))
    out[k] = out[k].split("\n\n")[0] + "\n\n" + "\n\n".join(out[k].split("\n\n")[2:])
    if move and len(out) > 4:
        moved = out.pop(1)
        out.insert(len(out) - 1, moved)
    return out


def demo_policy() -> tuple[str, str, str] | None:
    folder = ROOT / "policies" / "privacy-policy"
    files = sorted(folder.glob("v*.md"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    if len(files) < 2:
        return None
    metas = [render.split_front_matter(p.read_text(encoding="utf-8")) for p in files]
    latest = max((i for i in range(1, len(files)) if metas[i][0].get("material")), default=len(files) - 1)
    return (f"privacy-policy {files[latest - 1].stem}→{files[latest].stem}",
            metas[latest - 1][1], metas[latest][1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--verbose", action="store_true", help="print every corpus pair")
    ap.add_argument("--cases", default="1,2,3", help="which cases to run, e.g. 3 or 1,3")
    args = ap.parse_args()
    cases = set(args.cases.split(","))

    rows, targets = [], []
    demo = demo_policy()
    if "1" in cases and demo:
        rows.append(measure(demo[0], demo[1], demo[2], args.runs))
    elif "1" in cases:
        base = synthetic(16_000, 1)
        rows.append(measure("synthetic 16 KB policy", "\n\n".join(base),
                            "\n\n".join(edit(base, random.Random(2), 6, True)), args.runs))
    if "1" in cases:
        print_table(rows)
        targets.append(("(1) ratio <= 4", rows[0]["ratio"] <= 4))

    corpus = ROOT.parent / "shared" / "corpus" / "github-terms-of-service"
    files = sorted(corpus.glob("*.md")) if corpus.is_dir() and "2" in cases else []
    if "2" not in cases:
        pass
    elif files:
        texts = [render.split_front_matter(p.read_text(encoding="utf-8"))[1] for p in files]
        pairs = [measure(f"{files[i].stem}→{files[i + 1].stem[:3]}", texts[i], texts[i + 1], max(3, args.runs // 2))
                 for i in range(len(texts) - 1)]
        if args.verbose:
            print_table(pairs)
        ratios = sorted(p["ratio"] for p in pairs)
        summary = {"name": f"corpus: {len(pairs)} pairs (median)", "kb": statistics.median(p["kb"] for p in pairs),
                   "blocks": int(statistics.median(p["blocks"] for p in pairs)),
                   "changes": sum(p["changes"] for p in pairs), "moves": sum(p["moves"] for p in pairs),
                   "notes": sum(p["notes"] for p in pairs),
                   "redline": statistics.median(p["redline"] for p in pairs),
                   "render": statistics.median(p["render"] for p in pairs),
                   "ratio": statistics.median(ratios), "split": sum(p["split"] for p in pairs),
                   "redline_cpu": statistics.median(p["redline_cpu"] for p in pairs),
                   "render_cpu": statistics.median(p["render_cpu"] for p in pairs),
                   "ratio_cpu": statistics.median(p["ratio_cpu"] for p in pairs)}
        print_table([summary])
        print(f"    corpus ratio: min {ratios[0]:.2f}  median {statistics.median(ratios):.2f}  "
              f"p90 {ratios[int(len(ratios) * 0.9)]:.2f}  max {ratios[-1]:.2f}; "
              f"slowest redline {max(p['redline'] for p in pairs) * 1000:.1f} ms")
        rows.append(summary)
        targets.append(("(2) corpus median ratio <= 4", summary["ratio"] <= 4))
    else:
        print(f"(2) corpus skipped: {corpus} not found")

    if "3" in cases:
        base = synthetic(1_000_000, 7)
        old, new = "\n\n".join(base), "\n\n".join(edit(base, random.Random(8), 40, True))
        big = measure("synthetic 1 MB, 40 edits + moved section", old, new, max(3, args.runs // 2))
        print_table([big])
        rows.append(big)
        targets.append(("(3) 1 MB under 0.5 s", big["redline"] < 0.5))

    split = sum(r["split"] for r in rows)
    print(f"\nwords split by a change: {split} (must be 0)")
    for name, ok in targets + [("no split words", split == 0)]:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    # Targets are reported, not enforced: a benchmark is not a timed test. A split word is a bug.
    return 0 if split == 0 else 1


_printed_header = False


def print_table(rows):
    global _printed_header
    if not _printed_header:
        print(f"{'case':44} {'KB':>6} {'blocks':>6} {'chg':>4} {'mv':>3} {'note':>4} "
              f"{'redline ms':>10} {'render ms':>9} {'ratio':>5} {'(cpu ms':>8} {'cpu ms':>7} {'ratio)':>6} {'split':>5}")
        _printed_header = True
    for r in rows:
        print(f"{r['name'][:44]:44} {r['kb']:6.1f} {r['blocks']:6d} {r['changes']:4d} {r['moves']:3d} "
              f"{r['notes']:4d} {r['redline'] * 1000:10.1f} {r['render'] * 1000:9.1f} {r['ratio']:5.2f} "
              f"{r['redline_cpu'] * 1000:8.1f} {r['render_cpu'] * 1000:7.1f} {r['ratio_cpu']:6.2f} {r['split']:5d}")


if __name__ == "__main__":
    sys.exit(main())
