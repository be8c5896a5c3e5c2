"""The emails themselves: subject, parts, links per kind of recipient, headers that cannot be forged."""
import datetime as dt

import pytest

from redline.notifications import emails
from redline.notifications.config import NotifyConfig
from redline.notifications.mailers import MemoryMailer, make_mailer
from redline.policies import clock
from redline.policies.store import Policy, Version

CFG = NotifyConfig(secret_key="k", base_url="https://policies.kestrel.example/",
                   mail_from="Kestrel Notes Legal <legal@kestrel.example>", mailer="memory")
PRIVACY = Policy("privacy", "Privacy Policy", "required", "", ())
COOKIES = Policy("cookies", "Cookie Policy", "notice", "", ())


def version(number=4, days=30, summary="Adds optional AI features."):
    now = clock.utcnow()
    return Version("privacy", number, "body", "0" * 64, now, now + dt.timedelta(days=days), True, summary, "")


def plain(msg):
    return msg.get_body(("plain",)).get_content()


def test_subject_says_what_changes_and_when():
    msg = emails.notice_message(CFG, PRIVACY, version(days=30), emails.Recipient("a@kestrel.example"))
    effective = emails.long_date(version(days=30).effective_at)
    assert msg["Subject"] == f"We're updating our Privacy Policy (effective {effective})"
    past = emails.notice_message(CFG, PRIVACY, version(days=0), emails.Recipient("a@kestrel.example"))
    assert past["Subject"].startswith("We've updated our Privacy Policy (effective ")
    assert "took effect on" in plain(past)


def test_a_user_gets_the_redline_from_their_version_and_the_accept_link():
    msg = emails.notice_message(CFG, PRIVACY, version(), emails.Recipient("a@kestrel.example", "Ann", "user", 2))
    assert msg.get_content_type() == "multipart/alternative"
    text, html = plain(msg), msg.get_body(("html",)).get_content()
    assert text.startswith("Hello Ann,")
    assert "since the version you accepted (version 2)" in text
    for url in ("https://policies.kestrel.example/privacy/diff/2..4/",
                "https://policies.kestrel.example/accept/privacy/"):
        assert url in text and f'href="{url}"' in html
    assert msg["From"] == "Kestrel Notes Legal <legal@kestrel.example>"
    assert msg["Auto-Submitted"] == "auto-generated"


def test_a_notice_policy_asks_nothing_and_a_first_version_links_to_its_text():
    v1 = Version("cookies", 1, "b", "0" * 64, clock.utcnow(), clock.utcnow(), True, "First.", "")
    text = plain(emails.notice_message(CFG, COOKIES, v1, emails.Recipient("a@kestrel.example")))
    assert "/accept/" not in text and "/diff/" not in text
    assert "You don't need to do anything" in text
    assert "https://policies.kestrel.example/cookies/v/1/" in text


def test_message_id_is_the_delivery_key_whatever_the_case_of_the_address():
    a = emails.notice_message(CFG, PRIVACY, version(), emails.Recipient("Ann@Kestrel.example"))
    b = emails.notice_message(CFG, PRIVACY, version(), emails.Recipient("ann@kestrel.example"))
    c = emails.notice_message(CFG, PRIVACY, version(number=5), emails.Recipient("ann@kestrel.example"))
    assert a["Message-ID"] == b["Message-ID"] != c["Message-ID"]
    assert a["Message-ID"].endswith("@kestrel.example>") and "ann" not in a["Message-ID"]


@pytest.mark.parametrize("name", ["Eve\r\nBcc: victim@elsewhere.example", "Eve\nSubject: Win",
                                  "Eve\x00\x1b[31m", "Eve\u2028Bcc: x@y.example"])
def test_names_and_titles_with_line_breaks_cannot_add_headers(name):
    evil = Policy("privacy", "Privacy\r\nBcc: victim@elsewhere.example", "required", "", ())
    msg = emails.notice_message(CFG, evil, version(), emails.Recipient("eve@kestrel.example", name))
    raw = msg.as_bytes()
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in headers and b"\nSubject: Win" not in headers
    assert msg["To"].addresses[0].addr_spec == "eve@kestrel.example"
    assert "\n" not in msg["Subject"]


def test_an_address_that_is_not_one_cannot_be_sent():
    with pytest.raises(emails.UnsendableMessage):
        emails.notice_message(CFG, PRIVACY, version(), emails.Recipient("not an address"))


def test_the_memory_mailer_keeps_what_it_is_given():
    MemoryMailer.outbox.clear()
    msg = emails.confirm_message(CFG, "a@kestrel.example", 7, 1, "*", "any of our policies")
    with make_mailer(CFG).session() as session:
        assert session.send(msg).startswith("250")
    assert MemoryMailer.outbox == [msg]
    assert "https://policies.kestrel.example/subscribe/confirm/" in plain(msg)
    assert "List-Unsubscribe" not in msg


def test_unknown_mailers_and_securities_are_refused():
    with pytest.raises(ValueError):
        make_mailer(NotifyConfig(secret_key="k", mailer="pigeon"))
    with pytest.raises(ValueError):
        make_mailer(NotifyConfig(secret_key="k", mailer="smtp", smtp_security="tls1.0"))
