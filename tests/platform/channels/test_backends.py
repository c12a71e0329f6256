"""Provider adapters against the providers' documented examples (tests/platform/channels/provider_examples.py),
over httpx.MockTransport: the request each one builds, its signature, and how answers map to results,
retryable and permanent failures."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from guanxi.platform.channels.backends import aliyun_sms, get_backend, tencent_sms
from guanxi.platform.channels.backends.aliyun_sms import AliyunSmsBackend, aliyun_phone
from guanxi.platform.channels.backends.base import OutgoingMessage, PermanentError, RetryableError
from guanxi.platform.channels.backends.console import ConsoleBackend
from guanxi.platform.channels.backends.http import use_transport
from guanxi.platform.channels.backends.tencent_sms import TencentSmsBackend, tc3_authorization
from guanxi.platform.channels.backends.wechat_mp import WeChatTemplateBackend
from guanxi.platform.channels.backends.wecom import WeComBackend
from tests.platform.channels import provider_examples as ex

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(*answers: Any, seen: list[httpx.Request] | None = None) -> httpx.Client:
    """A client whose transport records each request and answers with the next of `answers` (a JSON body,
    an httpx.Response or an exception to raise)."""
    queue = list(answers)
    requests = seen if seen is not None else []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    return httpx.Client(transport=httpx.MockTransport(handle))


def sms(**overrides: Any) -> OutgoingMessage:
    values: dict[str, Any] = {
        "message_id": 42,
        "channel": "sms",
        "to": "+8613800138000",
        "subject": "",
        "body": "张伟，会员日8折回复TD退订",
        "language": "zh-hans",
        "provider_template_id": "SMS_154950909",
        "provider_data": {"name": "张伟", "discount": "8折"},
    }
    return OutgoingMessage(**(values | overrides))


# Aliyun ------------------------------------------------------------------------------------------------


def test_aliyun_signature_matches_the_documented_example() -> None:
    assert aliyun_sms.string_to_sign("GET", ex.ALIYUN_SIGNATURE_PARAMS) == ex.ALIYUN_STRING_TO_SIGN
    assert aliyun_sms.sign("GET", ex.ALIYUN_SIGNATURE_PARAMS, "testsecret") == ex.ALIYUN_SIGNATURE


def test_aliyun_percent_encoding_follows_rfc_3986() -> None:
    assert aliyun_sms.percent_encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9"


ALIYUN_OPTIONS = {"access_key_id": "testid", "access_key_secret": "testsecret", "sign_name": "阿里云短信测试"}


def test_aliyun_send_sms_request_and_documented_success_answer() -> None:
    seen: list[httpx.Request] = []
    backend = AliyunSmsBackend(ALIYUN_OPTIONS, client=client_for(ex.ALIYUN_SEND_OK, seen=seen))
    result = backend.send(sms())
    assert (result.provider, result.provider_message_id) == ("aliyun_sms", "9006197469364984****")
    [request] = seen
    assert request.method == "POST" and str(request.url) == "https://dysmsapi.aliyuncs.com/"
    params = dict(parse_qsl(request.content.decode()))
    assert params["Action"] == "SendSms" and params["Version"] == "2017-05-25"
    assert params["PhoneNumbers"] == "13800138000" and params["SignName"] == "阿里云短信测试"
    assert params["TemplateCode"] == "SMS_154950909" and params["OutId"] == "42"
    assert json.loads(params["TemplateParam"]) == {"name": "张伟", "discount": "8折"}
    assert params["SignatureMethod"] == "HMAC-SHA1" and params["SignatureVersion"] == "1.0"
    assert dt.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    signature = params.pop("Signature")
    assert signature == aliyun_sms.sign("POST", params, "testsecret")  # the server can verify it


def test_aliyun_rate_limit_is_retryable_and_a_bad_number_permanent() -> None:
    backend = AliyunSmsBackend(ALIYUN_OPTIONS, client=client_for(ex.ALIYUN_SEND_LIMITED, ex.ALIYUN_SEND_BAD_NUMBER))
    with pytest.raises(RetryableError) as limited:
        backend.send(sms())
    assert (limited.value.code, limited.value.message) == ("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10")
    with pytest.raises(PermanentError) as bad:
        backend.send(sms())
    assert bad.value.code == "isv.MOBILE_NUMBER_ILLEGAL"


def test_aliyun_transport_failures_are_retryable() -> None:
    request = httpx.Request("POST", "https://dysmsapi.aliyuncs.com/")
    backend = AliyunSmsBackend(
        ALIYUN_OPTIONS,
        client=client_for(httpx.ConnectTimeout("timed out", request=request), httpx.Response(503, text="busy")),
    )
    with pytest.raises(RetryableError) as timeout:
        backend.send(sms())
    assert timeout.value.code == "timeout"
    with pytest.raises(RetryableError) as unavailable:
        backend.send(sms())
    assert unavailable.value.code == "http_503"


def test_aliyun_without_a_template_uses_the_generic_one_or_refuses() -> None:
    with pytest.raises(PermanentError) as refused:
        AliyunSmsBackend(ALIYUN_OPTIONS, client=client_for()).send(sms(provider_template_id="", provider_data={}))
    assert refused.value.code == "no_template"
    seen: list[httpx.Request] = []
    options = ALIYUN_OPTIONS | {"default_template_code": "SMS_GENERIC", "default_template_param": "content"}
    AliyunSmsBackend(options, client=client_for(ex.ALIYUN_SEND_OK, seen=seen)).send(
        sms(provider_template_id="", provider_data={})
    )
    params = dict(parse_qsl(seen[0].content.decode()))
    assert params["TemplateCode"] == "SMS_GENERIC"
    assert json.loads(params["TemplateParam"]) == {"content": "张伟，会员日8折回复TD退订"}


def test_aliyun_phone_format() -> None:
    assert aliyun_phone("+8613800138000") == "13800138000"
    assert aliyun_phone("+85291234567") == "85291234567"


# Tencent Cloud ---------------------------------------------------------------------------------------------


def test_tc3_signature_matches_the_documented_example() -> None:
    assert (
        tc3_authorization(
            secret_id=ex.TENCENT_EXAMPLE_SECRET_ID,
            secret_key=ex.TENCENT_EXAMPLE_SECRET_KEY,
            service="cvm",
            host="cvm.tencentcloudapi.com",
            payload=ex.TENCENT_EXAMPLE_PAYLOAD,
            timestamp=1551113065,
        )
        == ex.TENCENT_EXAMPLE_AUTHORIZATION
    )


TENCENT_OPTIONS = {"secret_id": "AKIDtest", "secret_key": "secret", "sdk_app_id": "1400006666", "sign_name": "腾讯云"}


def test_tencent_send_sms_request_and_documented_success_answer() -> None:
    seen: list[httpx.Request] = []
    backend = TencentSmsBackend(TENCENT_OPTIONS, client=client_for(ex.TENCENT_SEND_OK, seen=seen))
    message = sms(provider_template_id="1110", provider_data={"2": "8折", "1": "张伟"})
    result = backend.send(message)
    assert (result.provider, result.provider_message_id) == ("tencent_sms", "5000:1045710669157053657849499619")
    [request] = seen
    assert str(request.url) == "https://sms.tencentcloudapi.com/"
    headers = request.headers
    assert headers["X-TC-Action"] == "SendSms" and headers["X-TC-Version"] == "2021-01-11"
    assert headers["X-TC-Region"] == "ap-guangzhou" and headers["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(request.content)
    assert body == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400006666",
        "SignName": "腾讯云",
        "TemplateId": "1110",
        "TemplateParamSet": ["张伟", "8折"],
        "SessionContext": "42",
    }
    expected = tc3_authorization(
        secret_id="AKIDtest",
        secret_key="secret",
        service="sms",
        host="sms.tencentcloudapi.com",
        payload=request.content,
        timestamp=int(headers["X-TC-Timestamp"]),
    )
    assert headers["Authorization"] == expected


def test_tencent_errors_map_to_retryable_and_permanent() -> None:
    backend = TencentSmsBackend(TENCENT_OPTIONS, client=client_for(ex.TENCENT_SEND_LIMITED, ex.TENCENT_AUTH_FAILURE))
    with pytest.raises(RetryableError) as limited:
        backend.send(sms(provider_template_id="1110"))
    assert limited.value.code == "LimitExceeded.PhoneNumberDailyLimit"
    with pytest.raises(PermanentError) as auth:
        backend.send(sms(provider_template_id="1110"))
    assert auth.value.code == "AuthFailure.SignatureFailure"
    assert tencent_sms._error_class("InvalidParameterValue.IncorrectPhoneNumber") is PermanentError
    assert tencent_sms._error_class("InternalError.Timeout") is RetryableError


# 企业微信 -----------------------------------------------------------------------------------------------


WECOM_OPTIONS = {"corp_id": "ww1234", "corp_secret": "s3cret", "agent_id": "1000002"}


def wechat(**overrides: Any) -> OutgoingMessage:
    values: dict[str, Any] = {
        "message_id": 9,
        "channel": "wechat",
        "to": "ZhangWei",
        "subject": "",
        "body": "您的订单已发货",
        "language": "zh-hans",
    }
    return OutgoingMessage(**(values | overrides))


def test_wecom_fetches_a_token_once_and_sends_a_text_message(db: None) -> None:
    seen: list[httpx.Request] = []
    client = client_for(ex.WECOM_TOKEN, ex.WECOM_SEND_OK, ex.WECOM_SEND_OK, seen=seen)
    backend = WeComBackend(WECOM_OPTIONS, client=client)
    assert backend.send(wechat()).provider_message_id == "xxxx"
    assert WeComBackend(WECOM_OPTIONS, client=client).send(wechat()).provider == "wecom"
    token_request, send_request, second_send = seen
    assert token_request.url.path == "/cgi-bin/gettoken"
    assert dict(token_request.url.params) == {"corpid": "ww1234", "corpsecret": "s3cret"}
    assert send_request.url.path == "/cgi-bin/message/send"
    assert send_request.url.params["access_token"] == "accesstoken000001"
    assert json.loads(send_request.content) == {
        "touser": "ZhangWei",
        "msgtype": "text",
        "agentid": 1000002,
        "text": {"content": "您的订单已发货"},
        "safe": 0,
    }
    assert second_send.url.path == "/cgi-bin/message/send"  # the cached token was used


def test_wecom_refreshes_an_expired_token_once(db: None) -> None:
    seen: list[httpx.Request] = []
    client = client_for(
        ex.WECOM_TOKEN,
        {"errcode": 42001, "errmsg": "access_token expired"},
        ex.WECOM_TOKEN | {"access_token": "fresh"},
        ex.WECOM_SEND_OK,
        seen=seen,
    )
    assert WeComBackend(WECOM_OPTIONS, client=client).send(wechat()).provider_message_id == "xxxx"
    assert [r.url.path for r in seen] == [
        "/cgi-bin/gettoken",
        "/cgi-bin/message/send",
        "/cgi-bin/gettoken",
        "/cgi-bin/message/send",
    ]
    assert seen[-1].url.params["access_token"] == "fresh"


def test_wecom_invalid_users_are_permanent(db: None) -> None:
    with pytest.raises(PermanentError) as all_invalid:
        WeComBackend(WECOM_OPTIONS, client=client_for(ex.WECOM_TOKEN, ex.WECOM_ALL_INVALID)).send(wechat())
    assert all_invalid.value.code == "81013"
    partly = ex.WECOM_SEND_OK | {"invaliduser": "zhangwei"}
    with pytest.raises(PermanentError) as invalid:
        WeComBackend(WECOM_OPTIONS, client=client_for(partly)).send(wechat())
    assert invalid.value.code == "invaliduser"


# 公众号 ---------------------------------------------------------------------------------------------------


MP_OPTIONS = {"app_id": "wx1234567890", "app_secret": "appsecret"}


def test_wechat_template_message_request_and_documented_answer(db: None) -> None:
    seen: list[httpx.Request] = []
    backend = WeChatTemplateBackend(MP_OPTIONS, client=client_for(ex.MP_TOKEN, ex.MP_SEND_OK, seen=seen))
    message = wechat(
        to="oia2TjuEGTNoeX76QEjQNrcURxG8",
        provider_template_id="ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY",
        provider_data={"first": "恭喜你购买成功！", "keyword1": "巧克力"},
        link="http://weixin.qq.com/download",
    )
    assert backend.send(message).provider_message_id == "200228332"
    token_request, send_request = seen
    assert token_request.url.path == "/cgi-bin/token"
    assert dict(token_request.url.params) == {
        "grant_type": "client_credential",
        "appid": "wx1234567890",
        "secret": "appsecret",
    }
    assert send_request.url.params["access_token"] == "ACCESS_TOKEN"
    assert json.loads(send_request.content) == {
        "touser": "oia2TjuEGTNoeX76QEjQNrcURxG8",
        "template_id": "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY",
        "data": {"first": {"value": "恭喜你购买成功！"}, "keyword1": {"value": "巧克力"}},
        "url": "http://weixin.qq.com/download",
    }


def test_wechat_40001_refreshes_the_token_and_other_errors_map(db: None) -> None:
    seen: list[httpx.Request] = []
    client = client_for(
        ex.MP_TOKEN, ex.MP_INVALID_CREDENTIAL, ex.MP_TOKEN | {"access_token": "NEW"}, ex.MP_SEND_OK, seen=seen
    )
    message = wechat(provider_template_id="T1", provider_data={"first": "hi"})
    assert WeChatTemplateBackend(MP_OPTIONS, client=client).send(message).provider_message_id == "200228332"
    assert seen[-1].url.params["access_token"] == "NEW"
    with pytest.raises(PermanentError) as openid:
        WeChatTemplateBackend(MP_OPTIONS, client=client_for(ex.MP_INVALID_OPENID)).send(message)
    assert openid.value.code == "40003"
    with pytest.raises(RetryableError) as busy:
        WeChatTemplateBackend(MP_OPTIONS, client=client_for(ex.MP_BUSY)).send(message)
    assert busy.value.code == "-1"
    with pytest.raises(PermanentError) as no_template:
        WeChatTemplateBackend(MP_OPTIONS, client=client_for()).send(wechat())
    assert no_template.value.code == "no_template"


def test_a_failed_token_request_is_reported(db: None) -> None:
    answer = {"errcode": 40013, "errmsg": "invalid appid"}
    with pytest.raises(PermanentError) as error:
        WeChatTemplateBackend(MP_OPTIONS, client=client_for(answer)).send(wechat(provider_template_id="T1"))
    assert (error.value.code, error.value.message) == ("40013", "invalid appid")


# Choosing backends ----------------------------------------------------------------------------------------


def test_backends_come_from_settings_and_build_clients_on_the_installed_transport(settings: Any, db: None) -> None:
    settings.GUANXI_CHANNELS = {
        **settings.GUANXI_CHANNELS,
        "sms": {"BACKEND": "guanxi.platform.channels.backends.aliyun_sms.AliyunSmsBackend", "OPTIONS": ALIYUN_OPTIONS},
    }
    backend = get_backend("sms")
    assert isinstance(backend, AliyunSmsBackend)
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ex.ALIYUN_SEND_OK)

    with use_transport(httpx.MockTransport(handle)):
        assert backend.send(sms()).provider_message_id == "9006197469364984****"
    assert len(seen) == 1


def test_the_console_backend_prints_the_message() -> None:
    stream = io.StringIO()
    result = ConsoleBackend(stream=stream).send(sms())
    assert result.provider_message_id == "console-42"
    assert "sms message #42 to +8613800138000" in stream.getvalue() and "张伟，会员日8折" in stream.getvalue()
