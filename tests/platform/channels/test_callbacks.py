"""SMS sent through a provider adapter end to end, and the providers' delivery-report webhooks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from django.test import Client

from guanxi.platform.channels.backends.http import use_transport
from guanxi.platform.channels.models import MessageStatus, OutboundMessage
from guanxi.platform.channels.services import message_send
from tests.platform.channels import provider_examples as ex
from tests.platform.channels.conftest import CUSTOMER, make_customer

ALIYUN_HOOK = "/hooks/channels/aliyun-sms/test-callback-token/"
TENCENT_HOOK = "/hooks/channels/tencent-sms/test-callback-token/"


@pytest.fixture
def aliyun(settings: Any) -> None:
    settings.GUANXI_CHANNELS = {
        **settings.GUANXI_CHANNELS,
        "sms": {
            "BACKEND": "guanxi.platform.channels.backends.aliyun_sms.AliyunSmsBackend",
            "OPTIONS": {
                "access_key_id": "testid",
                "access_key_secret": "testsecret",
                "sign_name": "关系",
                "default_template_code": "SMS_GENERIC",
            },
        },
    }


def post_json(path: str, data: Any) -> Any:
    return Client().post(path, data=json.dumps(data), content_type="application/json")


def test_an_sms_goes_out_through_aliyun_and_its_report_marks_it_delivered(
    org: Any, aliyun: None, django_capture_on_commit_callbacks: Any
) -> None:
    customer = make_customer(org.rep_north, email=None, phone="+8613800138000")
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ex.ALIYUN_SEND_OK | {"BizId": "12345********"})

    with use_transport(httpx.MockTransport(handle)), django_capture_on_commit_callbacks(execute=True):
        message = message_send(
            actor=org.actor("rep_north"),
            channel="sms",
            record_type=CUSTOMER,
            record_id=customer.pk,
            body="{{ name }}，您的订单已发货",
            purpose="transactional",
        )
    message.refresh_from_db()
    assert (message.status, message.provider, message.provider_message_id) == ("sent", "aliyun_sms", "12345********")
    assert len(seen) == 1 and b"PhoneNumbers=13800138000" in seen[0].content

    answer = post_json(ALIYUN_HOOK, ex.ALIYUN_REPORT)
    assert answer.status_code == 200 and answer.json() == {"code": 0, "msg": "接收成功"}
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.delivered_at.isoformat() == "2016-12-31T16:00:00+00:00"  # 2017-01-01 00:00 Beijing time
    assert post_json(ALIYUN_HOOK, ex.ALIYUN_REPORT).status_code == 200  # pushed again: no change
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_an_aliyun_failure_report_marks_the_sms_failed(org: Any) -> None:
    message = OutboundMessage.objects.create(
        channel="sms",
        purpose="transactional",
        status="sent",
        to_address="+8613800138000",
        record_type=CUSTOMER,
        record_id=1,
        language="zh-hans",
        provider="aliyun_sms",
        provider_message_id="777",
    )
    report = [ex.ALIYUN_REPORT[0] | {"biz_id": "777", "success": False, "err_code": "MK:0001", "err_msg": "空号"}]
    assert post_json(ALIYUN_HOOK, report).status_code == 200
    message.refresh_from_db()
    assert (message.status, message.last_error_code, message.last_error) == ("failed", "MK:0001", "空号")


def test_tencent_report_marks_the_sms_delivered(org: Any) -> None:
    message = OutboundMessage.objects.create(
        channel="sms",
        purpose="transactional",
        status="sent",
        to_address="+8613800138000",
        record_type=CUSTOMER,
        record_id=1,
        language="zh-hans",
        provider="tencent_sms",
        provider_message_id="xxxxxxx",
    )
    answer = post_json(TENCENT_HOOK, ex.TENCENT_REPORT)
    assert answer.status_code == 200 and answer.json() == {"result": 0, "errmsg": "OK"}
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_webhooks_need_the_secret_and_a_json_array(db: None, settings: Any) -> None:
    assert post_json("/hooks/channels/aliyun-sms/wrong/", ex.ALIYUN_REPORT).status_code == 404
    assert Client().get(ALIYUN_HOOK).status_code == 405
    bad = Client().post(ALIYUN_HOOK, data="not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == 400
    assert post_json(TENCENT_HOOK, "text").status_code == 400
    settings.GUANXI_CHANNELS = {**settings.GUANXI_CHANNELS, "callback_token": ""}
    assert post_json("/hooks/channels/aliyun-sms/x/", ex.ALIYUN_REPORT).status_code == 404  # turned off
