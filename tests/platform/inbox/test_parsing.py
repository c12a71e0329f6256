"""Parsing what providers send: MIME (Chinese charsets, encoded headers, HTML, bounces), JSON payloads, SMS
pushes, WeChat XML (safely), and the unsubscribe keywords."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from guanxi.platform.inbox.draft import limited_metadata, normalise_sender
from guanxi.platform.inbox.html_text import html_to_text
from guanxi.platform.inbox.mime import MalformedEmail, draft_from_json, draft_from_mime
from guanxi.platform.inbox.providers import (
    MalformedPayload,
    aliyun_drafts,
    hmac_signature,
    hmac_signature_valid,
    tencent_draft,
    wechat_draft,
    wechat_signature,
    wechat_signature_valid,
)
from guanxi.platform.inbox.safe_xml import UnsafeXml, parse_flat_xml
from guanxi.platform.inbox.services import is_unsubscribe_keyword
from tests.platform.inbox.conftest import bounce_bytes, html_email_with_attachment, mime_bytes


def test_mime_with_encoded_utf8_headers_and_a_gbk_body_is_read() -> None:
    draft = draft_from_mime(mime_bytes(charset="gbk"))
    assert (draft.from_name, draft.from_raw) == ("王芳", "wang.fang@example.com")
    assert draft.subject == "报价咨询"
    assert draft.body_text == "您好，请发一份报价。"
    assert draft.provider_message_id == "<mime-1@example.com>"
    assert draft.to_address == "sales@guanxi.example"
    assert draft.automated is False and draft.bounce is None


def test_gbk_encoded_words_and_a_gb2312_label_with_gbk_characters_are_read() -> None:
    # "镕" is in GBK but not in GB2312: mail clients label such bodies gb2312 all the same.
    raw = mime_bytes(
        from_header="=?GBK?B?zfW3vA==?= <wang.fang@example.com>",
        subject_header="=?gb2312?Q?=B1=A8=BC=DB?=",
        body="朱镕基同志您好",
        charset="gbk",
    ).replace(b'charset="gbk"', b'charset="gb2312"')
    draft = draft_from_mime(raw)
    assert draft.from_name == "王芳"
    assert draft.subject == "报价"
    assert draft.body_text == "朱镕基同志您好"


def test_full_width_punctuation_of_senders_is_kept() -> None:
    subject = "=?UTF-8?B?" + base64.b64encode("报价（急）！".encode()).decode() + "?="
    draft = draft_from_mime(mime_bytes(subject_header=subject, body="您好，收到！"))
    assert (draft.subject, draft.body_text) == ("报价（急）！", "您好，收到！")


def test_raw_8bit_gbk_headers_are_read() -> None:
    raw = (
        b"From: " + "王芳".encode("gbk") + b" <wang.fang@example.com>\r\n"
        b"Subject: " + "询价".encode("gbk") + b"\r\n"
        b"Message-ID: <raw-1@example.com>\r\n\r\nhello\r\n"
    )
    draft = draft_from_mime(raw)
    assert draft.subject == "询价"
    assert draft.from_raw == "wang.fang@example.com"
    assert draft.body_text == "hello"


def test_html_only_mail_becomes_text_without_scripts_and_attachments_are_listed() -> None:
    draft = draft_from_mime(html_email_with_attachment())
    assert draft.body_text == "Hello there,\n\nsee our page (https://example.com/p)\nthanks"
    assert "alert" not in draft.body_text and "color" not in draft.body_text
    assert draft.attachments == [{"filename": "报价单.pdf", "content_type": "application/pdf", "size": 13}]


def test_html_to_text_keeps_lists_and_drops_hidden_content() -> None:
    html = "<title>x</title><ul><li>一</li><li>二 &amp; 三</li></ul><iframe>bad</iframe><img alt='logo'>"
    assert html_to_text(html) == "- 一\n- 二 & 三\n\n[logo]"


def test_auto_replies_are_marked_automated() -> None:
    draft = draft_from_mime(mime_bytes(extra_headers="Auto-Submitted: auto-replied\r\n"))
    assert draft.automated is True


def test_message_without_message_id_gets_a_stable_derived_id() -> None:
    raw = mime_bytes().replace(b"Message-ID: <mime-1@example.com>\r\n", b"")
    assert draft_from_mime(raw).provider_message_id == draft_from_mime(raw).provider_message_id
    assert draft_from_mime(raw).provider_message_id.startswith("sha256:")


def test_empty_or_headerless_mime_is_refused() -> None:
    with pytest.raises(MalformedEmail):
        draft_from_mime(b"   ")
    with pytest.raises(MalformedEmail):
        draft_from_mime(b"just some text without headers")


def test_delivery_status_notification_names_the_bounced_message() -> None:
    draft = draft_from_mime(bounce_bytes())
    assert draft.bounce is not None
    assert draft.bounce.original_message_id == "<guanxi.42.1@mail.guanxi.example>"
    assert draft.bounce.recipients == (
        {"recipient": "nobody@example.com", "action": "failed", "status": "5.1.1",
         "diagnostic": "smtp; 550 5.1.1 User unknown"},
    )  # fmt: skip


def test_json_email_payload_is_read_and_html_used_when_there_is_no_text() -> None:
    draft = draft_from_json(
        {"from": "Zhang <ZHANG@Example.com>", "to": "sales@x.cn", "subject": "Hi", "text": "",
         "html": "<p>Line one</p><p>Line <b>two</b></p>", "headers": {"Auto-Submitted": "auto-replied"}}
    )  # fmt: skip
    assert (draft.from_name, draft.from_raw) == ("Zhang", "ZHANG@Example.com")
    assert draft.body_text == "Line one\n\nLine two"
    assert draft.automated is True
    assert draft.metadata == {"headers": [["Auto-Submitted", "auto-replied"]]}
    assert draft.provider_message_id.startswith("sha256:")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "send a JSON object"),
        ({"to": "a@b.cn"}, '"from" is missing'),
        ({"from": "a@b.cn", "subject": 5}, '"subject" must be text'),
        ({"from": "a@b.cn", "headers": "x"}, '"headers" must be an object or a list of [name, value] pairs'),
        ({"from": "a@b.cn", "attachments": ["x"]}, '"attachments" must be a list of objects'),
        ({"from": "a@b.cn", "date": "yesterday"}, '"date" must be an ISO 8601 date and time'),
    ],
)
def test_bad_json_email_payloads_are_refused_with_a_reason(payload: object, message: str) -> None:
    with pytest.raises(MalformedEmail) as failed:
        draft_from_json(payload)
    assert str(failed.value) == message


def test_aliyun_smsup_push_is_read_as_documented() -> None:
    drafts = aliyun_drafts(
        [
            {"phone_number": "13812345678", "send_time": "2017-09-01 00:00:00", "content": "TD", "sign_name": "签名",
             "dest_code": "1234", "sequence_id": 1234567890},
            {"phone_number": "8613912345678", "send_time": "20170901000100", "content": "好的", "dest_code": "1234",
             "sequence_id": "1234567891"},
        ]
    )  # fmt: skip
    assert [d.from_raw for d in drafts] == ["+8613812345678", "+8613912345678"]
    assert [d.provider_message_id for d in drafts] == ["1234567890", "1234567891"]
    assert drafts[0].received_at.isoformat() == "2017-09-01T00:00:00+08:00"
    assert drafts[0].metadata["provider"]["sign_name"] == "签名"
    assert [d.body_text for d in drafts] == ["TD", "好的"]


def test_aliyun_push_must_be_a_non_empty_array_of_objects() -> None:
    for payload in ({}, [], ["x"], [{"content": "no phone"}]):
        with pytest.raises(MalformedPayload):
            aliyun_drafts(payload)


def test_tencent_reply_callback_is_read_and_a_retry_gets_the_same_id() -> None:
    payload = {"extend": "", "mobile": "13812345678", "nationcode": "86", "sign": "签名", "text": "退订",
               "time": 1457336869}  # fmt: skip
    draft = tencent_draft(payload)
    assert draft.from_raw == "+8613812345678"
    assert draft.body_text == "退订"
    assert draft.received_at.timestamp() == 1457336869
    assert draft.provider_message_id == tencent_draft(dict(payload)).provider_message_id
    with pytest.raises(MalformedPayload):
        tencent_draft([payload])


def test_wechat_text_message_and_events() -> None:
    fields = parse_flat_xml(
        (
            "<xml><ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[oUpF8uMuAJO_M2pxb1Q9zNjWeS6o]]>"
            "</FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            "<Content><![CDATA[你好 <b>不是标签</b>]]></Content><MsgId>1234567890123456</MsgId></xml>"
        ).encode()
    )
    draft = wechat_draft(fields)
    assert draft is not None
    assert (draft.from_raw, draft.to_address, draft.provider_message_id) == (
        "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "gh_123",
        "1234567890123456",
    )
    assert draft.body_text == "你好 <b>不是标签</b>"
    assert wechat_draft({"FromUserName": "o1", "MsgType": "event", "Event": "subscribe"}) is None
    image = wechat_draft({"FromUserName": "o1", "MsgType": "image", "PicUrl": "http://x", "MsgId": "9"})
    assert image is not None and image.body_text == "[image]"


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aa"><!ENTITY b "&a;&a;">]><xml><Content>&b;</Content></xml>',
        b'<!DOCTYPE xml SYSTEM "http://evil.example/x.dtd"><xml><Content>x</Content></xml>',
        b"<xml><Content>&undefined;</Content></xml>",
        b"<xml><Content>unclosed</xml>",
        b"<other><Content>x</Content></other>",
    ],
)
def test_unsafe_or_malformed_xml_is_refused(document: bytes) -> None:
    with pytest.raises(UnsafeXml):
        parse_flat_xml(document)


def test_signatures() -> None:
    body = b'{"a": 1}'
    assert hmac_signature_valid("s", body, hmac_signature("s", body))
    assert hmac_signature_valid("s", body, "sha256=" + hmac_signature("s", body).upper())
    assert not hmac_signature_valid("s", body, hmac_signature("t", body))
    assert not hmac_signature_valid("", body, hmac_signature("", body))
    signature = wechat_signature("token", "1409304348", "xxxxxx")
    assert signature == hashlib.sha1(b"1409304348tokenxxxxxx").hexdigest()
    assert wechat_signature_valid("token", signature=signature, timestamp="1409304348", nonce="xxxxxx")
    assert not wechat_signature_valid("token", signature=signature, timestamp="1409304349", nonce="xxxxxx")


@pytest.mark.parametrize("text", ["TD", " td ", "ＴＤ", "退订", "T", "stop", "Unsubscribe", "td。", "STOP!"])
def test_unsubscribe_keywords(text: str) -> None:
    assert is_unsubscribe_keyword(text)


@pytest.mark.parametrize("text", ["", "TDK", "请退订我吧谢谢", "stop sending me the old price list"])
def test_other_replies_are_not_unsubscribe_keywords(text: str) -> None:
    assert not is_unsubscribe_keyword(text)


def test_senders_are_normalised_per_channel() -> None:
    assert normalise_sender("email", " Wang.Fang@Example.COM ") == ("wang.fang@example.com", True)
    assert normalise_sender("sms", "+86 138-1234-5678") == ("+8613812345678", True)
    assert normalise_sender("sms", "106900001234") == ("106900001234", False)
    assert normalise_sender("wechat", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o") == ("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", True)
    assert normalise_sender("email", "not an address") == ("not an address", False)


def test_metadata_is_cut_to_its_limit() -> None:
    headers = [["X-Long", "x" * 1000] for _ in range(100)]
    limited = limited_metadata({"headers": headers, "provider": {"a": "b"}})
    assert limited["truncated"] is True and limited["provider"] == {"a": "b"}
    assert len(json.dumps(limited).encode()) <= 32 * 1024
    assert 0 < len(limited["headers"]) < 100
