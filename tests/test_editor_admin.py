"""Admin pages: audit log, roles, coverage chart, ledger CSV."""
import csv
import io
import re

from redline.policies import audit, roles

from .editor_helpers import new_draft, sign_in, staff, submit, text
from tests.account_helpers import signup


def test_the_audit_log_lists_who_did_what_and_filters(client, sample):
    sign_in(client, sample, "boss@kestrel.example", "admin")
    new_draft(client)
    submit(client, "/editor/policies/new", title="Cookie Policy", slug="cookies", mode="notice")
    page = text(client.get("/editor/audit/"))
    assert "boss@kestrel.example" in page and "policy.create" in page and "draft.create" in page
    only = text(client.get("/editor/audit/?action=policy.create"))
    assert "policy.create</code> cookies" in only and "draft.create</code>" not in only
    by_subject = text(client.get("/editor/audit/?subject=privacy"))
    assert "draft.create</code> privacy" in by_subject and "cookies" not in by_subject.split("<tbody>")[1]
    assert text(client.get("/editor/audit/?action=nonsense")).count("<tr>") >= 3  # unknown filter ignored


def test_the_audit_log_pages_back(client, sample):
    boss = staff(sample, "boss@kestrel.example", "admin")
    actor = audit.Actor(boss, "boss@kestrel.example")
    for n in range(60):
        audit.record(sample, actor, "ledger.export", f"p{n}")
    client_ = sign_in(client, sample, "other@kestrel.example", "admin")
    first = text(client_.get("/editor/audit/"))
    older = re.search(r'href="(/editor/audit/\?before=\d+)"', first).group(1)
    second = text(client_.get(older.replace("&amp;", "&")))
    assert "p59" in first and "p0<" not in first and "p0" in second


def test_admins_change_roles_and_it_is_audited(client, sample):
    sign_in(client, sample, "boss@kestrel.example", "admin")
    signup(client.application.test_client(), "reader@kestrel.example")
    page = text(client.get("/editor/people/?email=reader@kestrel.example"))
    assert "reader@kestrel.example" in page and "is a reader" in page
    uid = sample.execute("SELECT id FROM users WHERE email = 'reader@kestrel.example'").fetchone()[0]
    r = submit(client, "/editor/people/?email=reader@kestrel.example", f"/editor/people/{uid}/role", role="editor")
    assert r.status_code == 302
    assert roles.get_member(sample, uid).role == "editor"
    listing = text(client.get("/editor/people/"))
    assert "reader@kestrel.example is now an editor." in listing  # the flash message
    assert re.search(r'<option value="editor" selected>', listing.split("reader@kestrel.example</td>", 1)[1])
    entry = audit.entries(sample, action="role.change")[0]
    assert entry.subject == "reader@kestrel.example" and entry.detail["new"] == "editor"
    missing = text(client.get("/editor/people/?email=nobody@kestrel.example"))
    assert "No account uses nobody@kestrel.example" in missing


def test_the_last_admin_cannot_demote_themselves(client, sample):
    sign_in(client, sample, "boss@kestrel.example", "admin")
    uid = sample.execute("SELECT id FROM users WHERE email = 'boss@kestrel.example'").fetchone()[0]
    r = submit(client, "/editor/people/", f"/editor/people/{uid}/role", role="reader")
    assert r.status_code == 302
    assert "the only admin" in text(client.get("/editor/people/"))
    assert roles.get_member(sample, uid).role == "admin"
    bad = submit(client, "/editor/people/", f"/editor/people/{uid}/role", role="owner")
    assert bad.status_code == 400


def test_coverage_page_draws_an_accessible_chart_with_a_table(client, sample):
    reader = client.application.test_client()
    signup(reader, "reader@kestrel.example")  # accepts version 3 at sign-up
    sign_in(client, sample)
    page = text(client.get("/editor/policies/privacy/coverage"))
    assert re.search(r'<svg class="chart-svg"[^>]*role="img"', page)
    assert "<title id=\"acceptances-title\">" in page and "<desc id=\"acceptances-desc\">" in page
    assert "1 acceptance of version 3 from" in page
    table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert re.search(r"<td>1</td>", table)
    assert "50%" in page and "Download the ledger" not in page  # the editor is pending; editors do not export
    assert "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")


def test_admins_export_the_ledger_as_csv_without_formulas(client, sample):
    reader = client.application.test_client()
    signup(reader, "=cmd@kestrel.example", name="Mallory")
    sign_in(client, sample, "boss@kestrel.example", "admin")
    r = client.get("/editor/policies/privacy/ledger.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(text(r))))
    assert rows[0][:3] == ["id", "user_id", "email"] and len(rows) == 2
    assert rows[1][2] == "'=cmd@kestrel.example"
    assert rows[1][11] == sample.execute("SELECT entry_hash FROM acceptances").fetchone()[0]
    assert audit.entries(sample, action="ledger.export")[0].subject == "privacy"
