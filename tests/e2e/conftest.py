"""Browser tests: Debian's Chromium driven by Playwright against a live server on loopback."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from redline.policies import db as dbmod
from redline.site import create_app

from tests.conftest import publish_sample

CHROMIUM = os.environ.get("REDLINE_CHROMIUM", "/usr/bin/chromium")
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser_path() -> str:
    path = CHROMIUM if os.path.isabs(CHROMIUM) else (shutil.which(CHROMIUM) or CHROMIUM)
    if not os.access(path, os.X_OK):
        pytest.fail(f"No browser at {path}: the browser tests need Debian's chromium "
                    "(apt-get install -y --no-install-recommends chromium) and never skip. "
                    "`make test` installs it.", pytrace=False)
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": _browser_path(), "args": CHROMIUM_ARGS}


class LiveServer:
    """The app served by werkzeug in a thread on a free loopback port."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def db(self):
        return dbmod.connect(self.app.config["DATABASE"])

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "redline.db"),
                      "MAIL_DIR": str(tmp_path / "mail"), "SECRET_KEY": "e2e-secret"})
    server = LiveServer(app)
    db = server.db()
    publish_sample(db)
    db.close()
    yield server
    server.stop()


@pytest.fixture
def shot():
    """Save a full-page screenshot under test-results/ (a person looks at these)."""
    RESULTS.mkdir(exist_ok=True)

    def take(page, name: str):
        page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=True)
    return take
