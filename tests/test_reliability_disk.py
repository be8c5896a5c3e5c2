"""A full disk during acceptance: a clear error, no partial row, the gate still shown.

The database lives on a real 3 MB tmpfs filled to the last byte (needs root to mount)."""
from __future__ import annotations

import os
import subprocess

import pytest

from redline.site import create_app

from tests.account_helpers import add_terms, terms_v2
from tests.conftest import publish_sample
from tests.security_helpers import make_user, open_db, sign_in, table_counts

ACCEPT = {"policy": "terms", "version": "2", "agree": "yes"}


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder) -> str:
    """Fill the file system to the last byte (unbuffered writes); return the filler's path."""
    path = os.path.join(folder, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    return path


def test_acceptance_on_a_full_disk(small_disk):
    app = create_app({"TESTING": True, "DATABASE": str(small_disk / "redline.db"),
                      "SECRET_KEY": "disk-secret", "WTF_CSRF_ENABLED": False})
    db = open_db(app)
    publish_sample(db)
    add_terms(db)
    user = make_user(db, "reader")
    terms_v2(db)
    client = app.test_client()
    sign_in(client, user)
    assert client.get("/").headers["Location"].startswith("/accept/terms/")
    client.get("/accept/terms/")  # warm the caches while there is room
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the next write must grow the file
    before = table_counts(db)
    filler = _fill(small_disk)
    response = client.post("/accept/terms/", data=ACCEPT)
    text = response.get_data(as_text=True)
    assert response.status_code == 503, response.status_code
    assert "could not record your acceptance" in text and "Nothing was recorded" in text
    assert 'id="agree"' in text  # the gate is still shown, ready for another try
    assert table_counts(db) == before
    assert client.get("/").headers["Location"].startswith("/accept/terms/")  # still gated
    os.remove(filler)
    assert client.post("/accept/terms/", data=ACCEPT).status_code == 302
    assert table_counts(db)["acceptances"] == before["acceptances"] + 1
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
