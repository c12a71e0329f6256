"""IMAP polling against a fake server: real RFC 822 bytes, UIDs remembered, Message-IDs stored once, a
changed UIDVALIDITY, server errors, and the lease that keeps two workers from polling one folder."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Interaction
from guanxi.customers.models.choices import ContactKind
from guanxi.platform.core.jobs import periodic_jobs, run_periodic_job
from guanxi.platform.inbox.imap import ImapSettings, imap_poll_mailbox
from guanxi.platform.inbox.models import ImapCursor, InboundMessage, MatchStatus
from tests.platform.inbox.conftest import customer_with, mime_bytes


class FakeImap:
    """The few imaplib.IMAP4 methods the poller calls, over a dict of {uid: RFC 822 bytes}."""

    def __init__(self, messages: dict[int, bytes], *, uid_validity: int = 7, password: str = "secret") -> None:
        self.messages = messages
        self.uid_validity = uid_validity
        self.password = password
        self.calls: list[tuple[Any, ...]] = []
        self.selected: tuple[str, bool] | None = None

    def login(self, user: str, password: str) -> tuple[str, list[Any]]:
        self.calls.append(("login", user))
        if password != self.password:
            return "NO", [b"[AUTHENTICATIONFAILED] Invalid credentials"]
        return "OK", [b"LOGIN completed"]

    def select(self, mailbox: str = "INBOX", readonly: bool = False) -> tuple[str, list[Any]]:
        self.selected = (mailbox, readonly)
        return "OK", [str(len(self.messages)).encode()]

    def response(self, code: str) -> tuple[str, list[Any]]:
        return code, [str(self.uid_validity).encode()] if code == "UIDVALIDITY" else [None]

    def uid(self, command: str, *args: Any) -> tuple[str, list[Any]]:
        self.calls.append(("uid", command, *args))
        if command == "SEARCH":
            low = int(args[1].split()[1].split(":")[0])
            found = [uid for uid in sorted(self.messages) if uid >= low] or sorted(self.messages)[-1:]
            return "OK", [" ".join(str(uid) for uid in found).encode()]
        if command == "FETCH":
            uid = int(args[0])
            raw = self.messages[uid]
            return "OK", [(f"1 (UID {uid} BODY[] {{{len(raw)}}}".encode(), raw), b")"]
        return "BAD", [b"unknown command"]

    def logout(self) -> tuple[str, list[Any]]:
        self.calls.append(("logout",))
        return "BYE", [b"LOGOUT"]


@pytest.fixture
def imap_settings(settings: Any) -> Any:
    settings.GUANXI_INBOX_IMAP = {
        "host": "imap.example.com", "port": 993, "username": "sales@guanxi.example", "password": "secret",
        "folder": "INBOX", "ssl": True, "client_factory": "",
    }  # fmt: skip
    return settings


def _mail(n: int, sender: str = "wang.fang@example.com") -> bytes:
    return mime_bytes(
        from_header=f"=?UTF-8?B?546L6Iqz?= <{sender}>", message_id=f"<imap-{n}@example.com>", body=f"第{n}封信"
    )


def test_first_poll_stores_every_message_and_files_it(org: Any, imap_settings: Any) -> None:
    customer = customer_with(org.rep_north, ContactKind.EMAIL, "wang.fang@example.com")
    server = FakeImap({3: _mail(1), 5: _mail(2)})
    result = imap_poll_mailbox(client_factory=lambda conf: server)
    assert (result.fetched, result.stored, result.duplicates, result.error) == (2, 2, 0, "")
    assert server.selected == ("INBOX", True)
    assert ("uid", "FETCH", "3", "(BODY.PEEK[])") in server.calls and server.calls[-1] == ("logout",)
    messages = list(InboundMessage.objects.order_by("id"))
    assert [(m.provider, m.body_text, m.record_id) for m in messages] == [
        ("imap", "第1封信", customer.pk),
        ("imap", "第2封信", customer.pk),
    ]
    assert messages[0].metadata["imap"] == {"uid": 3, "uid_validity": 7}
    cursor = ImapCursor.objects.get()
    assert (cursor.uid_validity, cursor.last_uid, cursor.claimed_until, cursor.last_error) == (7, 5, None, "")
    assert Interaction.objects.filter(customer=customer).count() == 2


def test_a_second_poll_reads_only_new_messages(org: Any, imap_settings: Any) -> None:
    server = FakeImap({3: _mail(1)})
    imap_poll_mailbox(client_factory=lambda conf: server)
    again = imap_poll_mailbox(client_factory=lambda conf: server)
    assert (again.fetched, again.stored) == (0, 0)  # "UID 4:*" answers 3, which is skipped
    server.messages[9] = _mail(2)
    later = imap_poll_mailbox(client_factory=lambda conf: server)
    assert (later.fetched, later.stored) == (1, 1)
    assert InboundMessage.objects.count() == 2 and ImapCursor.objects.get().last_uid == 9


def test_a_new_uidvalidity_rereads_the_folder_without_duplicates(org: Any, imap_settings: Any) -> None:
    server = FakeImap({3: _mail(1), 4: _mail(2)})
    imap_poll_mailbox(client_factory=lambda conf: server)
    renumbered = FakeImap({1: _mail(1), 2: _mail(2), 3: _mail(3)}, uid_validity=8)
    result = imap_poll_mailbox(client_factory=lambda conf: renumbered)
    assert (result.fetched, result.stored, result.duplicates) == (3, 1, 2)
    assert InboundMessage.objects.count() == 3
    assert (ImapCursor.objects.get().uid_validity, ImapCursor.objects.get().last_uid) == (8, 3)


def test_batches_are_limited_and_resume(org: Any, imap_settings: Any) -> None:
    server = FakeImap({uid: _mail(uid) for uid in range(1, 6)})
    first = imap_poll_mailbox(client_factory=lambda conf: server, batch_size=2)
    second = imap_poll_mailbox(client_factory=lambda conf: server, batch_size=2)
    assert (first.stored, second.stored, ImapCursor.objects.get().last_uid) == (2, 2, 4)


def test_unreadable_messages_are_skipped_and_not_fetched_again(org: Any, imap_settings: Any) -> None:
    server = FakeImap({1: b"  ", 2: _mail(2)})
    result = imap_poll_mailbox(client_factory=lambda conf: server)
    assert (result.fetched, result.unreadable, result.stored) == (2, 1, 1)
    assert ImapCursor.objects.get().last_uid == 2


def test_a_login_failure_is_recorded_and_nothing_advances(org: Any, imap_settings: Any) -> None:
    server = FakeImap({1: _mail(1)}, password="other")
    result = imap_poll_mailbox(client_factory=lambda conf: server)
    assert result.error.startswith("ImapFailed: LOGIN answered NO")
    cursor = ImapCursor.objects.get()
    assert (cursor.last_uid, cursor.claimed_until) == (0, None)
    assert cursor.last_error == result.error
    assert not InboundMessage.objects.exists()
    assert server.calls[-1] == ("logout",)


def test_a_connection_error_is_recorded(org: Any, imap_settings: Any) -> None:
    def refuse(conf: ImapSettings) -> Any:
        raise ConnectionRefusedError("connection refused")

    result = imap_poll_mailbox(client_factory=refuse)
    assert result.error == "ConnectionRefusedError: connection refused"


def test_a_folder_being_polled_by_another_worker_is_skipped(org: Any, imap_settings: Any) -> None:
    ImapCursor.objects.create(
        mailbox="sales@guanxi.example@imap.example.com:993/INBOX",
        claimed_until=timezone.now() + dt.timedelta(minutes=5),
    )
    server = FakeImap({1: _mail(1)})
    assert imap_poll_mailbox(client_factory=lambda conf: server).skipped == "busy"
    assert server.calls == []
    ImapCursor.objects.update(claimed_until=timezone.now() - dt.timedelta(seconds=1))  # the lease ran out
    assert imap_poll_mailbox(client_factory=lambda conf: server).stored == 1


def test_nothing_happens_without_a_mailbox(org: Any, settings: Any) -> None:
    settings.GUANXI_INBOX_IMAP = {"host": "", "username": ""}
    assert imap_poll_mailbox(client_factory=lambda conf: FakeImap({})).skipped == "not configured"
    assert not ImapCursor.objects.exists()


_SERVER = FakeImap({})


def fake_factory(conf: ImapSettings) -> FakeImap:
    """Named in settings by dotted path, as an operator would name another client."""
    return _SERVER


def test_the_periodic_job_runs_every_two_minutes_with_the_configured_factory(org: Any, imap_settings: Any) -> None:
    job = next(job for job in periodic_jobs() if job.name == "inbox.imap_poll")
    assert (job.minute, job.hour) == ("*/2", "*")
    imap_settings.GUANXI_INBOX_IMAP = {
        **imap_settings.GUANXI_INBOX_IMAP,
        "client_factory": "tests.platform.inbox.test_imap.fake_factory",
    }
    _SERVER.messages = {1: _mail(1, sender="unknown@example.com")}
    result = run_periodic_job("inbox.imap_poll")
    assert (result["stored"], result["error"]) == (1, "")
    assert InboundMessage.objects.get().match_status == MatchStatus.LEAD_CREATED
    assert run_periodic_job("inbox.imap_poll")["stored"] == 0  # safe to run twice
