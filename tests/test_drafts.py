"""Drafts: start from the newest version, save, classify, schedule, publish in one transaction."""
import sqlite3
import threading

import pytest

from redline.policies import audit, clock, drafts, roles, store
from redline.policies import db as dbmod
from redline.policies.audit import Actor
from redline.policies.errors import Conflict, InvalidPolicy, NotFound
from redline.policies.schedule import ShortNotice

from .conftest import SAMPLE_V4, days


def make_editor(db, email="ed@kestrel.example", role="editor") -> Actor:
    member = roles.add_user(db, Actor.command("test"), email, "x", role)
    return Actor(member.id, member.email)


@pytest.fixture
def ed(sample):
    return make_editor(sample)


def ready(db, ed, body, material=True, summary="We now sell data.", effective_on=None,
          confirm=False, notice_days=30):
    """A draft of the sample policy with `body`, classified and scheduled."""
    d = drafts.create(db, "privacy", ed, "Change")
    d = drafts.save(db, d.id, body, ed, revision=d.revision)
    drafts.classify(db, d.id, ed, material=material, summary=summary)
    drafts.set_schedule(db, d.id, ed, effective_on=effective_on, confirm_short_notice=confirm,
                        notice_days=notice_days)
    return drafts.get(db, d.id)


def test_a_draft_starts_from_the_newest_version_and_remembers_it(sample, ed):
    d = drafts.create(sample, "privacy", ed, "  Add   sale of data ")
    assert d.base_number == 4 and d.body == SAMPLE_V4
    assert d.title == "Add sale of data" and d.author == ed.name and d.material is None
    other = drafts.create(sample, "privacy", ed)
    assert [x.id for x in drafts.in_progress(sample, "privacy")] == [other.id, d.id]
    assert other.name == f"Draft {other.id}"


def test_a_new_policy_draft_starts_from_a_title(sample, ed):
    store.create_policy(sample, "cookies", "Cookie Policy", "notice")
    d = drafts.create(sample, "cookies", ed)
    assert d.base_number is None and d.body == "# Cookie Policy\n\n"


def test_saving_checks_the_revision_and_keeps_both_texts(sample, ed):
    d = drafts.create(sample, "privacy", ed)
    saved = drafts.save(sample, d.id, SAMPLE_V4 + "\nMine.\n", ed, revision=d.revision)
    assert saved.revision == d.revision + 1
    with pytest.raises(drafts.DraftChanged) as info:
        drafts.save(sample, d.id, SAMPLE_V4 + "\nTheirs.\n", ed, revision=d.revision)
    assert info.value.current.body.endswith("Mine.\n")
    assert drafts.get(sample, d.id).body.endswith("Mine.\n")


def test_changing_the_text_clears_the_classification_but_keeps_the_summary(sample, ed):
    d = ready(sample, ed, SAMPLE_V4 + "\nWe sell data.\n")
    assert d.material is True
    d = drafts.save(sample, d.id, SAMPLE_V4 + "\nWe sell more data.\n", ed, revision=d.revision)
    assert d.material is None and d.summary == "We now sell data."
    same = drafts.save(sample, d.id, d.body, ed, revision=d.revision, title="Renamed")
    assert same.title == "Renamed"


def test_bodies_are_checked_against_the_limit(sample, ed):
    d = drafts.create(sample, "privacy", ed)
    with pytest.raises(InvalidPolicy, match="limit is 1,000 bytes"):
        drafts.save(sample, d.id, "x" * 1001, ed, revision=d.revision, max_bytes=1000)
    with pytest.raises(InvalidPolicy, match="empty"):
        drafts.save(sample, d.id, "  \n", ed, revision=d.revision)
    assert drafts.get(sample, d.id).body == SAMPLE_V4


def test_classification_is_explicit_and_material_needs_a_summary(sample, ed):
    d = drafts.create(sample, "privacy", ed)
    for bad in (None, "yes", 1):
        with pytest.raises(InvalidPolicy, match="no default"):
            drafts.classify(sample, d.id, ed, material=bad)
    with pytest.raises(InvalidPolicy, match="summary"):
        drafts.classify(sample, d.id, ed, material=True, summary="   ")
    assert drafts.classify(sample, d.id, ed, material=False).material is False


def test_publish_creates_the_version_the_audit_row_and_calls_the_hook(sample, ed):
    body = SAMPLE_V4 + "\nWe sell data to third parties.\n"
    d = ready(sample, ed, body)
    seen = []
    before = clock.utcnow()
    v = drafts.publish(sample, d.id, ed, notice_days=30, author="Legal team",
                       on_publish=lambda db, version: seen.append((db.conn.in_transaction, version.number)))
    assert (v.number, v.material, v.summary, v.author) == (5, True, "We now sell data.", "Legal team")
    assert v.body == body and v.published_at >= before
    assert v.effective_at >= v.published_at + (days(30) - clock.utcnow())
    assert v.effective_at.hour == 0 and v.effective_at.minute == 0
    assert seen == [(True, 5)]
    assert drafts.get(sample, d.id).published_number == 5
    assert drafts.in_progress(sample, "privacy") == []
    entry = audit.entries(sample, action="version.publish")[0]
    assert (entry.actor, entry.subject, entry.detail["number"]) == (ed.name, "privacy", 5)
    with pytest.raises(drafts.AlreadyPublished):
        drafts.publish(sample, d.id, ed, notice_days=30)


def test_a_failing_hook_rolls_everything_back(sample, ed):
    d = ready(sample, ed, SAMPLE_V4 + "\nMore.\n", material=False)

    def boom(db, version):
        raise RuntimeError("fan-out failed")
    with pytest.raises(RuntimeError):
        drafts.publish(sample, d.id, ed, notice_days=30, on_publish=boom)
    assert [v.number for v in store.versions(sample, "privacy")] == [1, 2, 3, 4]
    assert drafts.get(sample, d.id).published_number is None
    assert audit.entries(sample, action="version.publish") == []


def test_a_minor_change_takes_effect_no_earlier_than_the_scheduled_version(sample, ed):
    d = ready(sample, ed, SAMPLE_V4 + "\nTypo.\n", material=False)
    v = drafts.publish(sample, d.id, ed, notice_days=30)
    assert v.effective_at == store.get_version(sample, "privacy", 4).effective_at


def test_a_minor_change_takes_effect_now_when_nothing_is_scheduled(db):
    ed = make_editor(db)
    store.create_policy(db, "terms", "Terms", "required")
    store.publish(db, "terms", "# Terms\n\nOne.\n", material=True, summary="First.",
                  published_at=days(-10), effective_at=days(-10))
    d = drafts.create(db, "terms", ed)
    d = drafts.save(db, d.id, "# Terms\n\nOne!\n", ed, revision=d.revision)
    drafts.classify(db, d.id, ed, material=False)
    before = clock.utcnow()
    v = drafts.publish(db, d.id, ed, notice_days=30)
    assert before <= v.effective_at == v.published_at <= clock.utcnow()


def test_nothing_to_publish_when_the_draft_equals_the_newest_version(sample, ed):
    d = drafts.create(sample, "privacy", ed)
    drafts.classify(sample, d.id, ed, material=False)
    with pytest.raises(drafts.NothingToPublish, match="identical to version 4"):
        drafts.publish(sample, d.id, ed, notice_days=30)


def test_an_unclassified_draft_is_not_published(sample, ed):
    d = drafts.create(sample, "privacy", ed)
    d = drafts.save(sample, d.id, SAMPLE_V4 + "\nx\n", ed, revision=d.revision)
    with pytest.raises(InvalidPolicy, match="material or minor"):
        drafts.publish(sample, d.id, ed, notice_days=30)


def test_a_stale_draft_is_refused_with_what_changed_meanwhile(sample, ed):
    mine = ready(sample, ed, SAMPLE_V4 + "\nMine.\n", material=False)
    theirs = ready(sample, ed, SAMPLE_V4 + "\nTheirs.\n", material=False)
    drafts.publish(sample, theirs.id, ed, notice_days=30)
    with pytest.raises(Conflict) as info:
        drafts.publish(sample, mine.id, ed, notice_days=30)
    assert isinstance(info.value, drafts.StaleDraft)
    assert [v.number for v in info.value.since] == [5]
    assert "version 5 was published after this draft was started from version 4" in str(info.value)
    assert [v.number for v in store.versions(sample, "privacy")] == [1, 2, 3, 4, 5]


def test_rebase_reapplies_my_changes_onto_the_new_version(sample, ed):
    mine = ready(sample, ed, SAMPLE_V4.replace("Who we are", "About us"), material=False)
    theirs = ready(sample, ed, SAMPLE_V4 + "\n## 5. Contact\n\nWrite to us.\n", material=False)
    drafts.publish(sample, theirs.id, ed, notice_days=30)
    result = drafts.rebase(sample, mine.id, ed)
    assert result.applied and result.failed == []
    assert result.draft.base_number == 5 and result.draft.material is None
    assert "## 1. About us" in result.draft.body and "## 5. Contact" in result.draft.body


def test_rebase_changes_nothing_when_a_change_does_not_fit(sample, ed):
    mine = ready(sample, ed, SAMPLE_V4.replace("Standard Contractual Clauses", "adequacy decisions"),
                 material=False)
    theirs = ready(sample, ed, SAMPLE_V4.replace("We transfer data to the United States under "
                                                 "Standard Contractual Clauses.",
                                                 "We keep all data in the EU."), material=False)
    drafts.publish(sample, theirs.id, ed, notice_days=30)
    result = drafts.rebase(sample, mine.id, ed)
    assert not result.applied
    assert any("Standard Contractual Clauses" in removed for removed, _ in result.failed)
    assert drafts.get(sample, mine.id).body == mine.body
    assert drafts.get(sample, mine.id).base_number == 4


def test_short_notice_needs_confirmation_and_the_past_is_refused(sample, ed):
    store.create_policy(sample, "terms", "Terms", "required")
    d = drafts.create(sample, "terms", ed)
    d = drafts.save(sample, d.id, "# Terms\n\nHello.\n", ed, revision=d.revision)
    drafts.classify(sample, d.id, ed, material=True, summary="First terms.")
    soon = days(3).date().isoformat()
    with pytest.raises(ShortNotice, match="less than the 30-day notice period"):
        drafts.set_schedule(sample, d.id, ed, effective_on=soon, confirm_short_notice=False,
                            notice_days=30)
    with pytest.raises(InvalidPolicy, match="in the past"):
        drafts.set_schedule(sample, d.id, ed, effective_on=days(-1).date().isoformat(),
                            confirm_short_notice=True, notice_days=30)
    for bad in ("tomorrow", "2027-02-30", "2027-1-1", "x" * 500):
        with pytest.raises(InvalidPolicy, match="date"):
            drafts.set_schedule(sample, d.id, ed, effective_on=bad, confirm_short_notice=True,
                                notice_days=30)
    plan = drafts.set_schedule(sample, d.id, ed, effective_on=soon, confirm_short_notice=True,
                               notice_days=30)
    assert plan.short_notice
    v = drafts.publish(sample, d.id, ed, notice_days=30)
    assert v.effective_at.date().isoformat() == soon


def test_a_date_before_the_scheduled_version_is_refused(sample, ed):
    d = drafts.create(sample, "privacy", ed)
    drafts.classify(sample, d.id, ed, material=False)
    with pytest.raises(InvalidPolicy, match="before version 4 takes effect"):
        drafts.set_schedule(sample, d.id, ed, effective_on=days(2).date().isoformat(),
                            confirm_short_notice=False, notice_days=30)


def test_delete_discards_a_draft_and_is_audited(sample, ed):
    d = drafts.create(sample, "privacy", ed, "Scratch")
    drafts.delete(sample, d.id, ed)
    with pytest.raises(NotFound):
        drafts.get(sample, d.id)
    assert audit.entries(sample, action="draft.delete")[0].detail["title"] == "Scratch"


def test_two_editors_publishing_from_the_same_base_one_succeeds_one_is_told(app, sample, ed):
    first = ready(sample, ed, SAMPLE_V4 + "\nFirst.\n", material=False)
    second = ready(sample, ed, SAMPLE_V4 + "\nSecond.\n", material=False)
    barrier = threading.Barrier(2)
    outcomes = {}

    def run(draft):
        conn = dbmod.connect(app.config["DATABASE"])
        barrier.wait()
        try:
            outcomes[draft.id] = drafts.publish(conn, draft.id, ed, notice_days=30).number
        except Conflict as exc:
            outcomes[draft.id] = exc
        finally:
            conn.close()
    threads = [threading.Thread(target=run, args=(d,)) for d in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    numbers = [o for o in outcomes.values() if isinstance(o, int)]
    refused = [o for o in outcomes.values() if isinstance(o, drafts.StaleDraft)]
    assert numbers == [5] and len(refused) == 1
    assert [v.number for v in store.versions(sample, "privacy")] == [1, 2, 3, 4, 5]


def test_the_audit_log_is_append_only(sample, ed):
    drafts.create(sample, "privacy", ed)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        sample.execute("UPDATE audit SET actor = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        sample.execute("DELETE FROM audit")
    with pytest.raises(ValueError):
        audit.record(sample, ed, "version.unpublish", "privacy")
