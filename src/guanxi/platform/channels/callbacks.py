"""Delivery-report webhooks of the SMS providers (status reports pushed by Aliyun and Tencent Cloud).

Neither provider signs these pushes, so the URL carries a secret (`GUANXI_CHANNELS["callback_token"]`,
compared in constant time); without one configured the webhooks answer 404. Each push is a JSON array of
reports; each report marks its message delivered or failed (idempotent: providers push again on errors).
The answers are the ones the providers expect: Aliyun {"code": 0, "msg": ...}, Tencent {"result": 0, ...}.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from guanxi.platform.channels.conf import callback_token
from guanxi.platform.channels.services import message_record_delivery_report

MAX_BODY = 1024 * 1024


def _check_secret(secret: str) -> None:
    expected = callback_token()
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise Http404()


def _reports(request: HttpRequest) -> list[dict[str, Any]] | None:
    if len(request.body) > MAX_BODY:
        return None
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        return None
    return data


def _report_time(text: Any) -> dt.datetime | None:
    """Provider times are Beijing time without an offset ("2017-01-01 00:00:00")."""
    try:
        moment = dt.datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(dt.UTC)


@csrf_exempt
@require_POST
def aliyun_sms_report(request: HttpRequest, secret: str) -> HttpResponse:
    _check_secret(secret)
    reports = _reports(request)
    if reports is None:
        return JsonResponse({"code": 400, "msg": "expected a JSON array of reports"}, status=400)
    for report in reports:
        message_record_delivery_report(
            provider="aliyun_sms",
            provider_message_id=str(report.get("biz_id", "")),
            delivered=report.get("success") is True,
            error_code=str(report.get("err_code", "")),
            error_text=str(report.get("err_msg", "")),
            at=_report_time(report.get("report_time")) or timezone.now(),
        )
    return JsonResponse({"code": 0, "msg": "接收成功"})


@csrf_exempt
@require_POST
def tencent_sms_report(request: HttpRequest, secret: str) -> HttpResponse:
    _check_secret(secret)
    reports = _reports(request)
    if reports is None:
        return JsonResponse({"result": 1, "errmsg": "expected a JSON array of reports"}, status=400)
    for report in reports:
        message_record_delivery_report(
            provider="tencent_sms",
            provider_message_id=str(report.get("sid", "")),
            delivered=str(report.get("report_status", "")).upper() == "SUCCESS",
            error_code=str(report.get("errmsg", "")),
            error_text=str(report.get("description", "")),
            at=_report_time(report.get("user_receive_time")) or timezone.now(),
        )
    return JsonResponse({"result": 0, "errmsg": "OK"})
