"""`redline import-git` on a 300-commit history of a real policy, against importing the same versions from a folder.

The history: the 53 real versions of the GitHub Terms of Service (../shared/corpus, or any folder of
Markdown files given as the first argument) committed in turn 300 times, with a commit touching
another file after every fifth, so the file's history has 300 commits among 360.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BIN, ROOT, tempdir  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "github-terms-of-service"
COMMITS = 300


def build_repo(repo: Path, corpus: Path) -> list[str]:
    """A git repository whose docs/terms.md changes in COMMITS commits; returns the texts."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.md"))]
    env = {**os.environ, "GIT_AUTHOR_NAME": "Legal", "GIT_AUTHOR_EMAIL": "legal@kestrel.example",
           "GIT_COMMITTER_NAME": "Legal", "GIT_COMMITTER_EMAIL": "legal@kestrel.example",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=env)
    # fast-import writes the whole history in one process (300 `git commit`s take far longer).
    stream, used = [], []
    for i in range(COMMITS):
        text = texts[i % len(texts)]
        used.append(text)
        stamp = 1_500_000_000 + i * 86_400
        _commit(stream, "docs/terms.md", text, f"Terms update {i + 1}", stamp)
        if i % 5 == 4:
            _commit(stream, "README.md", f"notes {i}\n", f"Notes {i}", stamp + 3600)
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input="".join(stream).encode(),
                   check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "reset", "-q", "--hard", "main"], check=True, env=env)
    return used


def _commit(stream: list[str], path: str, text: str, message: str, stamp: int) -> None:
    """One fast-import commit on main (each continues the branch's tip)."""
    data = text.encode("utf-8")
    who = f"Legal <legal@kestrel.example> {stamp} +0000"
    stream.append(f"commit refs/heads/main\nauthor {who}\ncommitter {who}\n"
                  f"data {len(message.encode())}\n{message}\n")
    stream.append(f"M 100644 inline {path}\ndata {len(data)}\n")
    stream.append(text + "\n")


def write_folder(folder: Path, texts: list[str]) -> None:
    """The same versions as a `redline import` folder (front matter stripped, like import-git)."""
    pol = folder / "terms"
    pol.mkdir(parents=True)
    (pol / "policy.toml").write_text('title = "Terms"\nacceptance = "notice"\n')
    sys.path.insert(0, str(ROOT / "src"))
    from redline.policies.render import split_front_matter
    for i, text in enumerate(texts, 1):
        body = split_front_matter(text)[1].lstrip("\n")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_500_000_000 + (i - 1) * 86_400))
        (pol / f"v{i}.md").write_text(f"---\npublished: {stamp}\nmaterial: false\n---\n{body}")


def timed(args: list[str], database: str) -> float:
    env = {**os.environ, "REDLINE_DATABASE": database, "REDLINE_INSTANCE_PATH": str(Path(database).parent)}
    start = time.perf_counter()
    subprocess.run([str(BIN / "redline"), *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    with tempdir() as tmp:
        tmp = Path(tmp)
        texts = build_repo(tmp / "repo", corpus)
        write_folder(tmp / "folder", texts)
        git_time = timed(["import-git", str(tmp / "repo"), "docs/terms.md", "--slug", "terms"],
                         str(tmp / "git.db"))
        with sqlite3.connect(tmp / "git.db") as conn:
            versions = conn.execute("SELECT count(*) FROM versions").fetchone()[0]
        folder_time = timed(["import", str(tmp / "folder")], str(tmp / "folder.db"))
        start = time.perf_counter()
        subprocess.run(["git", "-C", str(tmp / "repo"), "log", "--first-parent", "-p", "--",
                        "docs/terms.md"], check=True, stdout=subprocess.DEVNULL)
        log_time = time.perf_counter() - start
    print(f"import-git, {COMMITS} commits -> {versions} versions (front-matter-only edits skipped), "
          f"~42 KB each: {git_time:6.2f} s")
    print(f"  anchor: redline import of the same {COMMITS} texts as version files:  {folder_time:6.2f} s"
          f"   ratio {git_time / folder_time:5.2f}x")
    print(f"  anchor: git log --first-parent -p of the file:              {log_time:6.2f} s"
          f"   ratio {git_time / log_time:5.2f}x")


if __name__ == "__main__":
    main()
