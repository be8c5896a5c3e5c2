"""netlify.toml's build command, run as Netlify would, and its output read in a browser."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.static_host import StaticHost
from tests.e2e.test_accessibility import axe_problems
from tests.sitecheck import broken_links

ROOT = Path(__file__).resolve().parents[2]


def _checkout(dest: Path) -> None:
    """The files a clone of this repository has (tracked and new, not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)


def _build_python(tmp: Path) -> Path:
    """A fresh venv that sees this venv's dependencies, so `pip install .` needs no network."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "redline-build-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


@pytest.fixture(scope="module")
def netlify_site(tmp_path_factory):
    """Run netlify.toml's build command in a copy of the repository; serve the publish folder."""
    config = tomllib.loads((ROOT / "netlify.toml").read_text())
    tmp = tmp_path_factory.mktemp("netlify")
    repo = tmp / "repo"
    _checkout(repo)
    bin_dir = _build_python(tmp)
    host = StaticHost.bind()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8",
           "URL": host.url,  # Netlify sets URL to the site's address
           "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",  # offline: build with what is here
           **config["build"].get("environment", {})}
    build = subprocess.run(["bash", "-c", config["build"]["command"]], cwd=repo, env=env,
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, f"build failed:\n{build.stdout}\n{build.stderr}"
    site = repo / config["build"]["publish"]
    installed = list(bin_dir.parent.glob("lib/python3*/site-packages/redline/site/freeze.py"))
    assert installed, "the build command did not install the package into the build's Python"
    host.serve(site, config)
    yield host, site, config, build.stdout
    host.stop()


def test_the_build_pins_the_python_the_tests_run_on(netlify_site):
    _, _, config, _ = netlify_site
    assert config["build"]["environment"]["PYTHON_VERSION"] == f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_the_built_site_is_complete_and_its_links_resolve(netlify_site):
    host, site, _, output = netlify_site
    assert "Froze " in output and str(site) in output
    assert broken_links(site, base_url=host.url) == []
    for alias, slug in (("privacy", "privacy-policy"), ("tos", "terms-of-service")):
        with urllib.request.urlopen(f"{host.url}/{alias}") as response:
            assert response.url == f"{host.url}/{slug}/"
    with urllib.request.urlopen(host.url + "/api/policies.json") as response:
        assert response.headers["Content-Type"].startswith("application/json")
    with urllib.request.urlopen(host.url + "/privacy-policy/feed.atom") as response:
        assert response.headers["Content-Type"].startswith("application/atom+xml")
        assert f"<id>{host.url}/privacy-policy/feed.atom</id>".encode() in response.read()
    css = next((site / "static").glob("site.*.css")).name
    with urllib.request.urlopen(f"{host.url}/static/{css}") as response:
        assert "immutable" in response.headers["Cache-Control"]


def test_a_visitor_reads_the_frozen_archive(page, netlify_site, shot):
    host, _, _, _ = netlify_site
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    response = page.goto(host.url + "/")
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    expect(page.get_by_role("heading", name="Our policies")).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_contain_text("This copy of the archive was published on")
    shot(page, "netlify-index")

    page.get_by_role("link", name="Privacy Policy", exact=True).click()
    expect(page).to_have_url(host.url + "/privacy-policy/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy Policy")
    expect(page.get_by_role("navigation", name="Contents")).to_be_visible()
    shot(page, "netlify-policy")

    page.get_by_role("link", name="All versions and changes").click()
    expect(page).to_have_url(host.url + "/privacy-policy/history/")
    expect(page.get_by_role("heading", name="History of the Privacy Policy")).to_be_visible()
    expect(page.get_by_role("button", name="Compare")).to_have_count(0)  # no form without the app
    expect(page.get_by_role("link", name="Compare with the version in force")).to_have_count(3)
    shot(page, "netlify-history")

    page.get_by_role("link", name="Changes in version 4").click()
    expect(page).to_have_url(host.url + "/privacy-policy/diff/3..4/")
    expect(page.get_by_role("heading", name="What changed from version 3 to version 4")).to_be_visible()
    expect(page.locator(".diff-body ins").first).to_be_visible()
    shot(page, "netlify-diff-inline")
    views = page.get_by_role("navigation", name="Comparison view")
    views.get_by_role("link", name="Side by side").click()
    expect(page).to_have_url(host.url + "/privacy-policy/diff/3..4/split/")
    expect(views.get_by_role("link", name="Side by side")).to_have_attribute("aria-current", "page")
    shot(page, "netlify-diff-split")
    views.get_by_role("link", name="Markdown source").click()
    expect(page).to_have_url(host.url + "/privacy-policy/diff/3..4/source/")
    page.get_by_role("link", name="First change").click()
    expect(page).to_have_url(re.compile(r"/privacy-policy/diff/3\.\.4/#c\d+$"))

    page.goto(host.url + "/privacy-policy/history/")
    page.get_by_role("link", name="Read version 1").click()
    expect(page).to_have_url(host.url + "/privacy-policy/v/1/")
    expect(page.get_by_role("complementary", name="Archived version")).to_be_visible()
    page.get_by_role("link", name="Compare with the current version").click()
    expect(page).to_have_url(host.url + "/privacy-policy/diff/1..4/")
    shot(page, "netlify-diff-1-4")

    page.goto(host.url + "/privacy")
    expect(page).to_have_url(host.url + "/privacy-policy/")
    page.goto(host.url + "/privacy-policy/at/2020-01-01/")
    expect(page).to_have_url(host.url + "/privacy-policy/history/")
    assert problems == [], problems  # no blocked style, script or image under the site's CSP
    page.goto(host.url + "/no-such-page/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="See all policies")).to_have_attribute("href", "/")
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).borderBottomStyle") != "none"
    shot(page, "netlify-404")
    assert not re.search(r"csrf", page.content(), re.I)


FROZEN = ["/", "/privacy-policy/", "/privacy-policy/history/", "/privacy-policy/v/1/",
          "/privacy-policy/upcoming/", "/privacy-policy/diff/3..4/", "/privacy-policy/diff/3..4/split/",
          "/privacy-policy/diff/3..4/source/", "/terms-of-service/", "/no-such-page/"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_frozen_pages_have_no_serious_accessibility_violations(browser, netlify_site, scheme):
    host, _, _, _ = netlify_site
    context = browser.new_context(bypass_csp=True, color_scheme=scheme)  # axe is injected inline
    page = context.new_page()
    found = []
    try:
        for path in FROZEN:
            page.goto(host.url + path)
            found += [f"{path}: {problem}" for problem in axe_problems(page)]
    finally:
        context.close()
    assert found == [], "\n".join(found)
