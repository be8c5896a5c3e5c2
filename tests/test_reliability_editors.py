"""Many editors publishing from the same base at once, against gunicorn with several workers."""
from __future__ import annotations

import threading
from urllib.parse import urlencode

from redline.policies import audit, db as dbmod, drafts, ledger, store
from redline.policies.audit import Actor

from tests.account_helpers import add_terms, forms
from tests.conftest import publish_sample
from tests.load_helpers import Gunicorn, forged_session, request
from tests.security_helpers import make_user

SECRET = "editors-secret"
EDITORS = 12
ROUNDS = 3


def _desks(db, editors, round_no):
    """Each editor opens a draft of the newest version, edits it and classifies it as minor."""
    desks = []
    for n, user in enumerate(editors):
        actor = Actor(user.id, user.email)
        d = drafts.create(db, "privacy", actor)
        d = drafts.save(db, d.id, d.body + f"\nRound {round_no}, edit by desk {n}.\n", actor,
                        revision=d.revision)
        drafts.classify(db, d.id, actor, material=False)
        desks.append((user, d.id))
    return desks


def _publish_all_at_once(port, sessions, desks):
    """Every desk loads its publish page, then all press Publish on the same barrier."""
    barrier, results, lock = threading.Barrier(len(desks)), {}, threading.Lock()

    def press(user, draft_id):
        cookie, _ = sessions[user.id]
        page = f"/editor/drafts/{draft_id}/publish"
        status, _, html = request(port, "GET", page, cookie=cookie)
        assert status == 200, (status, html[:300])
        form = [f for f in forms(html) if (f.action or page) == page][0]
        barrier.wait()
        status, _, html = request(port, "POST", page, urlencode(form.hidden), cookie, timeout=60)
        with lock:
            results[draft_id] = (status, html)

    threads = [threading.Thread(target=press, args=desk) for desk in desks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_many_editors_publishing_from_the_same_base_at_once(tmp_path):
    path = str(tmp_path / "redline.db")
    from redline.site import create_app
    create_app({"DATABASE": path})  # migrate
    db = dbmod.connect(path)
    publish_sample(db)
    add_terms(db)
    editors = [make_user(db, "editor", email=f"desk{n}@kestrel.example") for n in range(EDITORS)]
    sessions = {u.id: forged_session(SECRET, u) for u in editors}
    server = Gunicorn(path, SECRET, workers=3, threads=2)
    server.start()
    try:
        for round_no in range(1, ROUNDS + 1):
            before = store.versions(db, "privacy")[-1].number
            desks = _desks(db, editors, round_no)
            results = _publish_all_at_once(server.port, sessions, desks)
            assert len(results) == EDITORS, f"round {round_no}: {len(results)} answers"
            statuses = sorted(status for status, _ in results.values())
            assert statuses == [302] + [409] * (EDITORS - 1), f"round {round_no}: {statuses}"
            for status, html in results.values():
                if status == 409:
                    assert "Someone published while you worked" in html
            numbers = [v.number for v in store.versions(db, "privacy")]
            assert numbers == list(range(1, before + 2)), numbers
            winner = next(d for d, (status, _) in results.items() if status == 302)
            assert store.versions(db, "privacy")[-1].body == drafts.get(db, winner).body
    finally:
        server.stop()
    publishes = audit.entries(db, action="version.publish")
    assert len(publishes) == ROUNDS, [e.action for e in audit.entries(db)][:20]
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert ledger.verify(db).ok
    log = server.log_text()
    assert "database is locked" not in log and "Traceback" not in log, log[-3000:]
    print(f"\n{ROUNDS} rounds of {EDITORS} editors publishing at once: one version each round, "
          f"{ROUNDS * (EDITORS - 1)} told someone published first, numbers contiguous")
    db.close()
