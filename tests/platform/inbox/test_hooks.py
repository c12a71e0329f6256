"""The providers' front doors: signatures and tokens checked before anything is stored (403, nothing
stored), size limits, payload errors, retried deliveries stored once, and the answers providers expect."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from guanxi.customers.models import Interaction, Lead
from guanxi.customers.models.choices import ContactKind
from guanxi.platform.inbox.models import InboundMessage, MatchStatus
from guanxi.platform.inbox.providers import hmac_signature, wechat_signature
from tests.platform.inbox.conftest import (
    ALIYUN_TOKEN,
    TENCENT_TOKEN,
    WECHAT_TOKEN,
    customer_with,
    email_json,
    html_email_with_attachment,
    mime_bytes,
    signed_post,
)

EMAIL_URL = "/hooks/inbound/email/"
WECHAT_TEXT = (
    "<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><FromUserName><![CDATA[oUpF8uMuAJO_M2pxb1Q9zNjWeS6o]]>"
    "</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[我想订货]]></Content><MsgId>24000000000000001</MsgId></xml>"
).encode()


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


def test_signed_json_email_is_stored_and_filed(org: Any, client: Client) -> None:
    customer = customer_with(org.rep_north, ContactKind.EMAIL, "wang.fang@example.com")
    response = signed_post(client, EMAIL_URL, email_json(), "application/json")
    assert response.status_code == 201
    message = InboundMessage.objects.get()
    assert response.json() == {"id": message.pk, "status": "matched", "duplicate": False}
    assert (message.provider, message.subject, message.record_id) == ("webhook", "报价咨询", customer.pk)


def test_a_retried_webhook_is_stored_once(org: Any, client: Client) -> None:
    signed_post(client, EMAIL_URL, email_json(), "application/json")
    again = signed_post(client, EMAIL_URL, email_json(), "application/json")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert InboundMessage.objects.count() == 1 and Lead.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_X_GUANXI_SIGNATURE": "0" * 64}, {"HTTP_X_GUANXI_SIGNATURE": hmac_signature("other", email_json())}],
)
def test_missing_or_wrong_email_signature_is_refused_and_nothing_stored(org: Any, client: Client, headers: Any) -> None:
    response = client.post(EMAIL_URL, data=email_json(), content_type="application/json", **headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert not InboundMessage.objects.exists() and not Lead.objects.exists()


def test_the_email_webhook_is_closed_without_a_secret(org: Any, client: Client, settings: Any) -> None:
    settings.GUANXI_INBOX_EMAIL_SECRET = ""
    response = signed_post(client, EMAIL_URL, email_json(), "application/json", secret="")
    assert response.status_code == 403 and not InboundMessage.objects.exists()


def test_signed_raw_mime_with_gbk_body_is_stored(org: Any, client: Client) -> None:
    response = signed_post(client, EMAIL_URL, mime_bytes(), "message/rfc822")
    assert response.status_code == 201
    message = InboundMessage.objects.get()
    assert (message.from_name, message.from_address, message.subject, message.body_text) == (
        "王芳",
        "wang.fang@example.com",
        "报价咨询",
        "您好，请发一份报价。",
    )
    assert ["Message-ID", "<mime-1@example.com>"] in message.metadata["headers"]


def test_html_mail_is_stored_as_text_with_attachment_names_only(org: Any, client: Client) -> None:
    signed_post(client, EMAIL_URL, html_email_with_attachment(), "message/rfc822")
    message = InboundMessage.objects.get()
    assert "<" not in message.body_text and "alert" not in message.body_text
    assert message.attachments == [{"filename": "报价单.pdf", "content_type": "application/pdf", "size": 13}]


def test_email_webhook_errors(org: Any, client: Client, settings: Any) -> None:
    bad_json = signed_post(client, EMAIL_URL, b"{not json", "application/json")
    assert (bad_json.status_code, bad_json.json()["error"]["message"]) == (400, "The body is not valid JSON.")
    no_from = signed_post(client, EMAIL_URL, json.dumps({"subject": "x"}).encode(), "application/json")
    assert (no_from.status_code, no_from.json()["error"]["message"]) == (400, '"from" is missing')
    wrong_type = signed_post(client, EMAIL_URL, b"hello", "text/plain")
    assert wrong_type.status_code == 415
    settings.GUANXI_INBOX_EMAIL_MAX_BYTES = 100
    too_big = signed_post(client, EMAIL_URL, email_json(text="x" * 200), "application/json")
    assert too_big.status_code == 413
    assert not InboundMessage.objects.exists()
    assert client.get(EMAIL_URL).status_code == 405


def test_aliyun_push_with_the_token_stores_every_reply(org: Any, client: Client) -> None:
    customer = customer_with(org.rep_north, ContactKind.PHONE, "+8613812345678")
    push = [
        {"phone_number": "13812345678", "send_time": "2024-05-01 10:00:00", "content": "收到，谢谢",
         "sign_name": "关系", "dest_code": "01", "sequence_id": 900001},
        {"phone_number": "13900001111", "send_time": "2024-05-01 10:01:00", "content": "你们是谁？",
         "sign_name": "关系", "dest_code": "01", "sequence_id": 900002},
    ]  # fmt: skip
    url = f"/hooks/inbound/sms/aliyun/{ALIYUN_TOKEN}/"
    response = client.post(url, data=json.dumps(push), content_type="application/json")
    assert (response.status_code, response.json()) == (200, {"code": 0, "msg": "接收成功"})
    statuses = dict(InboundMessage.objects.values_list("provider_message_id", "match_status"))
    assert statuses == {"900001": MatchStatus.MATCHED, "900002": MatchStatus.LEAD_CREATED}
    assert Interaction.objects.get(customer=customer).body == "收到，谢谢"
    client.post(url, data=json.dumps(push), content_type="application/json")  # Aliyun retries
    assert InboundMessage.objects.count() == 2


def test_aliyun_push_with_a_wrong_token_is_refused(org: Any, client: Client, settings: Any) -> None:
    push = json.dumps([{"phone_number": "13812345678", "content": "TD", "sequence_id": 1}])
    response = client.post("/hooks/inbound/sms/aliyun/wrong/", data=push, content_type="application/json")
    assert response.status_code == 403
    settings.GUANXI_INBOX_ALIYUN_SMS_TOKEN = ""
    response = client.post("/hooks/inbound/sms/aliyun//", data=push, content_type="application/json")
    assert response.status_code == 404
    assert not InboundMessage.objects.exists()
    bad = client.post(f"/hooks/inbound/sms/aliyun/{ALIYUN_TOKEN}/", data="[]", content_type="application/json")
    assert bad.status_code == 403  # the token is unset now: the door is closed


def test_aliyun_push_in_the_wrong_shape_is_a_bad_request(org: Any, client: Client) -> None:
    url = f"/hooks/inbound/sms/aliyun/{ALIYUN_TOKEN}/"
    response = client.post(url, data=json.dumps({"phone_number": "1"}), content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, 400)
    assert client.post(url, data="nope", content_type="application/json").status_code == 400
    assert not InboundMessage.objects.exists()


def test_tencent_reply_with_the_token_is_stored_once(org: Any, client: Client) -> None:
    url = f"/hooks/inbound/sms/tencent/{TENCENT_TOKEN}/"
    body = json.dumps({"extend": "", "mobile": "13812345678", "nationcode": "86", "sign": "关系", "text": "好的",
                       "time": 1700000000})  # fmt: skip
    response = client.post(url, data=body, content_type="application/json")
    assert (response.status_code, response.json()) == (200, {"result": 0, "errmsg": "OK"})
    client.post(url, data=body, content_type="application/json")
    message = InboundMessage.objects.get()
    assert (message.provider, message.from_address, message.body_text) == ("tencent", "+8613812345678", "好的")
    refused = client.post("/hooks/inbound/sms/tencent/wrong/", data=body, content_type="application/json")
    assert refused.status_code == 403 and InboundMessage.objects.count() == 1


def _wechat_query(token: str = WECHAT_TOKEN, **extra: str) -> str:
    timestamp, nonce = "1700000000", "nonce42"
    signature = wechat_signature(token, timestamp, nonce)
    params = {"signature": signature, "timestamp": timestamp, "nonce": nonce, **extra}
    return "?" + "&".join(f"{key}={value}" for key, value in params.items())


def test_wechat_url_verification_echoes_echostr(client: Client) -> None:
    response = client.get("/hooks/inbound/wechat/" + _wechat_query(echostr="5838479218127813673"))
    assert (response.status_code, response.content) == (200, b"5838479218127813673")
    refused = client.get("/hooks/inbound/wechat/" + _wechat_query(token="other", echostr="x"))
    assert (refused.status_code, refused.content) == (403, b"forbidden")
    assert client.get("/hooks/inbound/wechat/?echostr=x").status_code == 403


def test_wechat_text_message_is_filed_by_open_id_and_answered_success(org: Any, client: Client) -> None:
    customer = customer_with(org.rep_north, ContactKind.WECHAT, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
    url = "/hooks/inbound/wechat/" + _wechat_query()
    response = client.post(url, data=WECHAT_TEXT, content_type="text/xml")
    assert (response.status_code, response.content) == (200, b"success")
    client.post(url, data=WECHAT_TEXT, content_type="text/xml")  # WeChat retries after 5 seconds
    message = InboundMessage.objects.get()
    assert (message.channel, message.from_address, message.record_id, message.body_text) == (
        "wechat",
        "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        customer.pk,
        "我想订货",
    )


def test_wechat_post_with_a_bad_signature_stores_nothing(org: Any, client: Client) -> None:
    response = client.post(
        "/hooks/inbound/wechat/" + _wechat_query(token="x"), data=WECHAT_TEXT, content_type="text/xml"
    )
    assert response.status_code == 403 and not InboundMessage.objects.exists()


def test_wechat_entity_expansion_and_events_store_nothing(org: Any, client: Client) -> None:
    url = "/hooks/inbound/wechat/" + _wechat_query()
    bomb = (
        b'<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<xml><FromUserName>&b;</FromUserName></xml>"
    )
    assert client.post(url, data=bomb, content_type="text/xml").status_code == 400
    event = b"<xml><FromUserName>o1</FromUserName><MsgType>event</MsgType><Event>subscribe</Event></xml>"
    assert client.post(url, data=event, content_type="text/xml").content == b"success"
    encrypted = b"<xml><ToUserName>gh</ToUserName><Encrypt>abc</Encrypt></xml>"
    assert client.post(url, data=encrypted, content_type="text/xml").status_code == 400
    assert client.post(url, data=b"x" * 70_000, content_type="text/xml").status_code == 413
    assert not InboundMessage.objects.exists()
