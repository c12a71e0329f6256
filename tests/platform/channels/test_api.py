"""The messages API: sending, the scoped log with filters and cursors, templates with previews, the contact policy
and the suppression list; permissions and the platform error format."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.platform.channels.models import MessageTemplate, OutboundMessage, Suppression
from guanxi.platform.channels.services import message_send
from tests.platform.channels.conftest import CUSTOMER, make_customer

API = "/api/v1"


def client(user: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def post(c: Client, path: str, data: Any, **extra: Any) -> Any:
    return c.post(f"{API}{path}", data, content_type="application/json", **extra)


def sent(actor: Any, customer: Any, purpose: str = "transactional", **kwargs: Any) -> OutboundMessage:
    params = {"channel": "email", "subject": "通知", "body": "{{ name }}，您好"} | kwargs
    return message_send(actor=actor, record_type=CUSTOMER, record_id=customer.pk, purpose=purpose, **params)


# Sending -------------------------------------------------------------------------------------------------


def test_send_answers_201_with_the_message_or_its_held_reason(org: Any) -> None:
    customer = make_customer(org.rep_north)
    unconsented = make_customer(org.rep_north, name="李娜", email="li@example.com", consent="unknown")
    c = client(org.marketer)
    created = post(
        c,
        "/messages",
        {
            "channel": "email",
            "record_type": CUSTOMER,
            "record_id": customer.pk,
            "subject": "新品",
            "body": "{{ name }}，春季新品",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["purpose"], body["to_address"], body["record_label"]) == (
        "queued",
        "marketing",
        "z***@example.com",
        "张伟",
    )  # marketers see personal data masked
    assert body["body"].startswith("张伟，春季新品\n\n--\n")
    held = post(
        c,
        "/messages",
        {"channel": "email", "record_type": CUSTOMER, "record_id": unconsented.pk, "subject": "新品", "body": "hi"},
    ).json()
    assert (held["status"], held["held_reason"]) == ("held", "no_consent")
    assert held["held_reason_text"] == (
        "Marketing needs consent for Email on this contact point; its consent is “Not asked”."
    )


def test_send_permissions_and_errors(org: Any) -> None:
    mine = make_customer(org.rep_north, email=None)
    theirs = make_customer(org.rep_south, email="s@example.com")
    rep = client(org.rep_north)
    denied = post(
        rep,
        "/messages",
        {"channel": "email", "record_type": CUSTOMER, "record_id": theirs.pk, "subject": "s", "body": "b"},
    )
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    hidden = post(
        rep,
        "/messages",
        {
            "channel": "email",
            "record_type": CUSTOMER,
            "record_id": theirs.pk,
            "subject": "s",
            "body": "b",
            "purpose": "transactional",
        },
    )
    assert hidden.status_code == 404
    invalid = post(
        rep,
        "/messages",
        {
            "channel": "email",
            "record_type": CUSTOMER,
            "record_id": mine.pk,
            "subject": "s",
            "body": "b",
            "purpose": "transactional",
        },
    )
    assert invalid.status_code == 422
    assert invalid.json()["error"]["fields"] == {"to_address": ["This record has no email address."]}
    unknown = post(rep, "/messages", {"channel": "fax", "record_type": CUSTOMER, "record_id": mine.pk, "extra": 1})
    assert unknown.status_code == 422 and set(unknown.json()["error"]["fields"]) == {"channel", "extra"}
    assert OutboundMessage.objects.count() == 0


# The log --------------------------------------------------------------------------------------------------


def test_the_log_is_scoped_to_visible_records_and_admins_see_all(org: Any) -> None:
    north = make_customer(org.rep_north)
    sub = make_customer(org.rep_north_sub, name="赵六", email="zhao@example.com")
    south = make_customer(org.rep_south, name="孙七", email="sun@example.com")
    mine, below, theirs = (sent(org.actor("admin"), c) for c in (north, sub, south))
    ids = lambda user: [m["id"] for m in client(user).get(f"{API}/messages").json()["items"]]  # noqa: E731
    assert ids(org.rep_north) == [mine.pk]
    assert ids(org.manager_north) == [below.pk, mine.pk]
    assert ids(org.admin) == [theirs.pk, below.pk, mine.pk]
    assert client(org.rep_south).get(f"{API}/messages/{mine.pk}").status_code == 404
    assert client(org.rep_north).get(f"{API}/messages/{mine.pk}").json()["to_address"] == "zhang.wei@example.com"
    assert client(org.analyst).get(f"{API}/messages/{mine.pk}").json()["to_address"] == "z***@example.com"


def test_the_log_filters_and_pages_with_cursors(org: Any) -> None:
    customer = make_customer(org.rep_north, phone="+8613800138000")
    other = make_customer(org.rep_north, name="李娜", email="li@example.com")
    email = sent(org.actor("admin"), customer)
    sms = sent(org.actor("admin"), customer, channel="sms", subject="")
    held = sent(
        org.actor("marketer"),
        make_customer(org.rep_north, name="王", email="w@example.com", consent="unknown"),
        purpose="marketing",
    )
    for_other = sent(org.actor("admin"), other)
    c = client(org.admin)

    def ids(**params: Any) -> list[int]:
        answer = c.get(f"{API}/messages", params)
        assert answer.status_code == 200, answer.content
        return [m["id"] for m in answer.json()["items"]]

    assert ids(channel="sms") == [sms.pk]
    assert ids(status="held") == [held.pk]
    assert ids(held_reason="no_consent", purpose="marketing") == [held.pk]
    assert ids(record_type=CUSTOMER, record_id=customer.pk) == [sms.pk, email.pk]
    assert ids(record_id=other.pk) == [for_other.pk]
    first = c.get(f"{API}/messages", {"limit": 2}).json()
    assert [m["id"] for m in first["items"]] == [for_other.pk, held.pk] and first["next_cursor"]
    second = c.get(f"{API}/messages", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [m["id"] for m in second["items"]] == [sms.pk, email.pk] and second["next_cursor"] is None
    bad = c.get(f"{API}/messages", {"status": "lost"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"status": ["Choose a value from the list."]}
    bad_day = c.get(f"{API}/messages", {"date_from": "yesterday"})
    assert bad_day.status_code == 422 and set(bad_day.json()["error"]["fields"]) == {"date_from"}


def test_the_log_runs_a_fixed_number_of_queries(org: Any) -> None:
    c = client(org.rep_north)

    def count_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            answer = c.get(f"{API}/messages")
        assert answer.status_code == 200
        return len(queries), len(answer.json()["items"])

    for n in range(3):
        sent(org.actor("admin"), make_customer(org.rep_north, name=f"客户{n}", email=f"c{n}@example.com"))
    few, shown = count_queries()
    assert shown == 3
    for n in range(3, 12):
        sent(org.actor("admin"), make_customer(org.rep_north, name=f"客户{n}", email=f"c{n}@example.com"))
    many, shown = count_queries()
    assert shown == 12 and many == few


def test_retry_and_bounce_routes(org: Any) -> None:
    customer = make_customer(org.rep_north)
    message = sent(org.actor("admin"), customer)
    OutboundMessage.objects.filter(pk=message.pk).update(status="failed")
    retried = post(client(org.rep_north), f"/messages/{message.pk}/retry", {})
    assert retried.status_code == 200 and retried.json()["status"] == "queued"
    again = post(client(org.rep_north), f"/messages/{message.pk}/retry", {})
    assert again.status_code == 409 and again.json()["error"]["message"] == "Only a failed message can be sent again."
    OutboundMessage.objects.filter(pk=message.pk).update(status="sent")
    assert post(client(org.rep_north), f"/messages/{message.pk}/bounce", {}).status_code == 403
    bounced = post(client(org.admin), f"/messages/{message.pk}/bounce", {"reason": "550 unknown user"})
    assert bounced.status_code == 200 and bounced.json()["status"] == "bounced"
    assert Suppression.objects.get().reason == "bounced"


# Templates ------------------------------------------------------------------------------------------------


TEMPLATE = {
    "name": "生日祝福",
    "channel": "email",
    "purpose": "marketing",
    "record_type": CUSTOMER,
    "subject_zh": "{{ name }}，生日快乐",
    "body_zh": "亲爱的{{ name }}：\n祝您生日快乐！",
    "subject_en": "Happy birthday, {{ name }}",
    "body_en": "Dear {{ name }},\nhappy birthday!",
}


def test_template_crud_with_versions(org: Any) -> None:
    c = client(org.marketer)
    created = post(c, "/message-templates", TEMPLATE)
    assert created.status_code == 201, created.content
    template = created.json()
    url = f"{API}/message-templates/{template['id']}"
    assert c.get(url)["ETag"] == '"1"'
    changed = c.patch(url, {"name": "生日祝福2"}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert changed.status_code == 200 and (changed.json()["name"], changed.json()["version"]) == ("生日祝福2", 2)
    assert c.patch(url, {"name": "x"}, content_type="application/json", HTTP_IF_MATCH='"1"').status_code == 412
    assert c.patch(url, {"name": "x"}, content_type="application/json").status_code == 428
    assert [t["name"] for t in c.get(f"{API}/message-templates").json()["items"]] == ["生日祝福2"]
    assert c.delete(url).status_code == 204
    assert MessageTemplate.objects.count() == 0


def test_template_errors_name_the_field_and_the_line(org: Any) -> None:
    c = client(org.marketer)
    bad = post(c, "/message-templates", TEMPLATE | {"body_en": "Dear {{ name }},\n{{ birthday }}"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {
        "body_en": ["Line 2: “birthday” is not a merge field of this record type."]
    }
    assert MessageTemplate.objects.count() == 0


def test_a_used_template_answers_409_on_delete(org: Any) -> None:
    c = client(org.marketer)
    template_id = post(c, "/message-templates", TEMPLATE).json()["id"]
    customer = make_customer(org.rep_north)
    message_send(
        actor=org.actor("marketer"),
        channel="email",
        record_type=CUSTOMER,
        record_id=customer.pk,
        template_id=template_id,
    )
    assert c.delete(f"{API}/message-templates/{template_id}").status_code == 409


def test_template_preview_and_merge_fields(org: Any) -> None:
    c = client(org.marketer)
    template_id = post(c, "/message-templates", TEMPLATE).json()["id"]
    customer = make_customer(org.rep_north)
    hidden_for_rep = make_customer(org.rep_south, email="s@example.com")
    preview = post(c, f"/message-templates/{template_id}/preview", {"record_id": customer.pk, "language": "en"})
    assert preview.status_code == 200, preview.content
    assert preview.json()["subject"] == "Happy birthday, 张伟" and preview.json()["language"] == "en"
    assert preview.json()["body"].startswith("Dear 张伟,\nhappy birthday!\n\n--\nTo stop receiving")
    rep = client(org.rep_north)
    assert post(rep, f"/message-templates/{template_id}/preview", {"record_id": hidden_for_rep.pk}).status_code == 404
    fields = [f["name"] for f in c.get(f"{API}/message-templates/merge-fields").json()["items"]]
    assert fields[:3] == ["name", "family_name", "given_name"] and fields[-1] == "unsubscribe_url"
    assert c.get(f"{API}/message-templates/merge-fields", {"record_type": "rockets"}).status_code == 404


def test_template_permissions(org: Any) -> None:
    rep = client(org.rep_north)
    assert post(rep, "/message-templates", TEMPLATE).status_code == 403
    assert rep.get(f"{API}/message-templates").status_code == 200  # senders choose from active templates
    assert rep.get(f"{API}/message-templates", {"include_inactive": "true"}).status_code == 403
    assert client(org.analyst).get(f"{API}/message-templates").status_code == 403


# Contact policy and suppressions -----------------------------------------------------------------------


def test_policy_get_and_put(org: Any) -> None:
    admin = client(org.admin)
    current = admin.get(f"{API}/contact-policy")
    assert current.status_code == 200 and current["ETag"] == f'"{current.json()["version"]}"'
    version = current.json()["version"]
    changed = admin.put(
        f"{API}/contact-policy",
        {
            "email_cap_count": 2,
            "email_cap_days": 30,
            "quiet_hours_enabled": True,
            "quiet_start": "22:00",
            "quiet_end": "07:30",
            "quiet_channels": ["sms"],
        },
        content_type="application/json",
        HTTP_IF_MATCH=f'"{version}"',
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["email_cap_count"], body["email_cap_days"], body["quiet_start"], body["quiet_end"]) == (
        2,
        30,
        "22:00",
        "07:30",
    )
    assert body["quiet_channels"] == ["sms"] and body["version"] == version + 1
    no_cap = admin.put(
        f"{API}/contact-policy", {"email_cap_count": None, "version": version + 1}, content_type="application/json"
    )
    assert no_cap.status_code == 200 and no_cap.json()["email_cap_count"] is None
    bad = admin.put(
        f"{API}/contact-policy",
        {"quiet_time_zone": "Mars/Olympus", "version": version + 2},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {"quiet_time_zone": ["Enter a time zone such as Asia/Shanghai."]}
    assert admin.put(f"{API}/contact-policy", {}, content_type="application/json").status_code == 428
    rep = client(org.rep_north)
    assert rep.get(f"{API}/contact-policy").status_code == 200
    assert (
        rep.put(f"{API}/contact-policy", {"version": version + 2}, content_type="application/json").status_code == 403
    )


def test_suppressions_api(org: Any) -> None:
    admin = client(org.admin)
    created = post(admin, "/contact-policy/suppressions", {"channel": "sms", "address": "138 0013 8000"})
    assert created.status_code == 201 and created.json()["address"] == "+8613800138000"
    assert created.json()["reason"] == "blocked" and created.json()["source"] == "admin"
    assert post(admin, "/contact-policy/suppressions", {"channel": "sms", "address": "13800138000"}).status_code == 409
    listed = admin.get(f"{API}/contact-policy/suppressions", {"address": "0013"}).json()
    assert [s["address"] for s in listed["items"]] == ["+8613800138000"]
    assert client(org.marketer).get(f"{API}/contact-policy/suppressions").status_code == 403
    assert admin.delete(f"{API}/contact-policy/suppressions/{created.json()['id']}").status_code == 204
    assert admin.delete(f"{API}/contact-policy/suppressions/{created.json()['id']}").status_code == 404
