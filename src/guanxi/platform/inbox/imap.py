"""Polling an IMAP mailbox for inbound email (the `inbox.imap_poll` periodic job).

The folder is opened read-only and messages are fetched with BODY.PEEK[], so the mailbox is left exactly as
it was (nothing marked read, nothing moved). The poller remembers the folder's UIDVALIDITY and the last UID
it stored (`ImapCursor`): each run fetches only newer messages, at most `batch_size` of them, and advances
after every stored message, so a run that breaks off resumes where it stopped. Messages are also stored once
by Message-ID, so reading a message again (a reset UIDVALIDITY) never duplicates it. A run claims the folder
with a conditional UPDATE (a lease), so two workers never poll it at the same time.

The IMAP client comes from a factory: `imaplib` by default, any object with the same few methods in tests
(`GUANXI_INBOX_IMAP["client_factory"]` names one by dotted path, or pass `client_factory=`).
"""

from __future__ import annotations

import datetime as dt
import imaplib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from guanxi.platform.inbox.mime import MalformedEmail, draft_from_mime
from guanxi.platform.inbox.models import ImapCursor, InboundProvider
from guanxi.platform.inbox.services import inbound_receive

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 100
LEASE = dt.timedelta(minutes=10)
TIMEOUT_SECONDS = 30


class ImapClient(Protocol):
    """The part of `imaplib.IMAP4` the poller uses."""

    def login(self, user: str, password: str) -> tuple[str, list[Any]]: ...

    def select(self, mailbox: str = "INBOX", readonly: bool = False) -> tuple[str, list[Any]]: ...

    def response(self, code: str) -> tuple[str, list[Any]]: ...

    def uid(self, command: str, *args: Any) -> tuple[str, list[Any]]: ...

    def logout(self) -> tuple[str, list[Any]]: ...


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    username: str
    password: str
    folder: str
    ssl: bool
    client_factory: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.host and self.username)

    @property
    def mailbox_key(self) -> str:
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"[:300]


ClientFactory = Callable[[ImapSettings], ImapClient]


@dataclass
class ImapPollResult:
    mailbox: str = ""
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    unreadable: int = 0
    skipped: str = ""  # "not configured", "busy"
    error: str = ""
    stored_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "fetched": self.fetched,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "unreadable": self.unreadable,
            "skipped": self.skipped,
            "error": self.error,
        }


class ImapFailed(Exception):
    """The server answered a command with something other than OK."""


def imap_settings() -> ImapSettings:
    conf: dict[str, Any] = getattr(settings, "GUANXI_INBOX_IMAP", {}) or {}
    return ImapSettings(
        host=str(conf.get("host") or ""),
        port=int(conf.get("port") or (993 if conf.get("ssl", True) else 143)),
        username=str(conf.get("username") or ""),
        password=str(conf.get("password") or ""),
        folder=str(conf.get("folder") or "INBOX"),
        ssl=bool(conf.get("ssl", True)),
        client_factory=str(conf.get("client_factory") or ""),
    )


def imaplib_client(conf: ImapSettings) -> ImapClient:
    """A connected `imaplib` client (TLS unless GUANXI_INBOX_IMAP_SSL is off)."""
    if conf.ssl:
        return imaplib.IMAP4_SSL(conf.host, conf.port, timeout=TIMEOUT_SECONDS)
    return imaplib.IMAP4(conf.host, conf.port, timeout=TIMEOUT_SECONDS)


def _factory(conf: ImapSettings, given: ClientFactory | None) -> ClientFactory:
    if given is not None:
        return given
    if conf.client_factory:
        factory: ClientFactory = import_string(conf.client_factory)
        return factory
    return imaplib_client


def _ok(answer: tuple[str, list[Any]], command: str) -> list[Any]:
    status, data = answer
    if status != "OK":
        raise ImapFailed(f"{command} answered {status}: {data!r}"[:500])
    return data


def _quoted(folder: str) -> str:
    if folder.startswith('"') or not any(ch in folder for ch in ' "\\'):
        return folder
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uid_validity(client: ImapClient) -> int | None:
    _code, data = client.response("UIDVALIDITY")
    for item in data or []:
        if item is None:
            continue
        text = item.decode("ascii", "replace") if isinstance(item, bytes) else str(item)
        if text.strip().isdigit():
            return int(text.strip())
    return None


def _new_uids(client: ImapClient, last_uid: int, batch_size: int) -> list[int]:
    data = _ok(client.uid("SEARCH", None, f"UID {last_uid + 1}:*"), "UID SEARCH")
    uids: set[int] = set()
    for chunk in data:
        if not chunk:
            continue
        text = chunk.decode("ascii", "replace") if isinstance(chunk, bytes) else str(chunk)
        uids.update(int(part) for part in text.split() if part.isdigit())
    # "n:*" always includes the last message, even when its UID is below n.
    return sorted(uid for uid in uids if uid > last_uid)[:batch_size]


def _message_bytes(data: list[Any]) -> bytes | None:
    """The message in a FETCH answer: the literal of the first (envelope, bytes) pair."""
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _claim(cursor: ImapCursor) -> bool:
    now = timezone.now()
    return bool(
        ImapCursor.objects.filter(pk=cursor.pk)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE)
    )


def imap_poll_mailbox(
    *, client_factory: ClientFactory | None = None, batch_size: int = DEFAULT_BATCH
) -> ImapPollResult:
    """Store the new messages of the configured IMAP folder (see the module docstring)."""
    conf = imap_settings()
    if not conf.configured:
        return ImapPollResult(skipped="not configured")
    result = ImapPollResult(mailbox=conf.mailbox_key)
    cursor, _created = ImapCursor.objects.get_or_create(mailbox=conf.mailbox_key)
    if not _claim(cursor):
        result.skipped = "busy"
        return result
    try:
        client = _factory(conf, client_factory)(conf)
        try:
            _ok(client.login(conf.username, conf.password), "LOGIN")
            _ok(client.select(_quoted(conf.folder), readonly=True), "SELECT")
            _poll_folder(client, cursor, result, batch_size)
        finally:
            try:
                client.logout()
            except (imaplib.IMAP4.error, OSError):
                logger.warning("IMAP logout from %s failed", conf.host)
    except (ImapFailed, imaplib.IMAP4.error, OSError, ValueError) as error:
        logger.warning("IMAP poll of %s failed: %s", conf.mailbox_key, error)
        result.error = f"{type(error).__name__}: {error}"[:1000]
    finally:
        ImapCursor.objects.filter(pk=cursor.pk).update(
            claimed_until=None, last_polled_at=timezone.now(), last_error=result.error
        )
    return result


def _poll_folder(client: ImapClient, cursor: ImapCursor, result: ImapPollResult, batch_size: int) -> None:
    cursor.refresh_from_db()
    uid_validity = _uid_validity(client)
    last_uid = cursor.last_uid if uid_validity is not None and cursor.uid_validity == uid_validity else 0
    if last_uid == 0 and cursor.last_uid:
        logger.info("IMAP folder %s has a new UIDVALIDITY; reading it again from the start", cursor.mailbox)
    for uid in _new_uids(client, last_uid, batch_size):
        data = _ok(client.uid("FETCH", str(uid), "(BODY.PEEK[])"), "UID FETCH")
        raw = _message_bytes(data)
        result.fetched += 1
        if raw is None:
            result.unreadable += 1
        else:
            try:
                draft = draft_from_mime(raw, provider=InboundProvider.IMAP)
            except MalformedEmail:
                result.unreadable += 1
            else:
                draft.metadata["imap"] = {"uid": uid, "uid_validity": uid_validity}
                message, created = inbound_receive(draft=draft)
                if created:
                    result.stored += 1
                    result.stored_ids.append(message.pk)
                else:
                    result.duplicates += 1
        ImapCursor.objects.filter(pk=cursor.pk).update(uid_validity=uid_validity, last_uid=uid)
