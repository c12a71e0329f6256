"""Request and response examples recorded from the providers' public documentation, used as fixtures.

Aliyun (help.aliyun.com):
- RPC signature example, "签名机制" (document_detail/28839 and the SDK help for DescribeRegions): AccessKeyId
  "testid", secret "testsecret", the parameters below, StringToSign and Signature "CT9X0VtwR86fNWSnsc6v8YGOjuE=".
- SendSms answer (api-dysmsapi-2017-05-25-sendsms) and an isv.BUSINESS_LIMIT_CONTROL answer as Aliyun returns it.
- SmsReport HTTP push (smsreport-http): a JSON array; the expected answer {"code": 0, "msg": "接收成功"}.

Tencent Cloud (cloud.tencent.com/document/api/382):
- Signature v3 example (CVM DescribeInstances, 2019-02-25): SecretId AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE, key
  Gu5t9xGARNpq86cd98joQYCN3EXAMPLE, timestamp 1551113065 -> Signature 72e494ea...5168.
- SendSms 2021-01-11 output example, an error answer, and the status callback (SMS Sending Status Notification).

WeChat (developers.weixin.qq.com / developer.work.weixin.qq.com): gettoken / cgi-bin/token answers, the
message/send and message/template/send answers and errcode 40001 (invalid credential).
"""

from __future__ import annotations

ALIYUN_SIGNATURE_PARAMS = {
    "TimeStamp": "2016-02-23T12:46:24Z",
    "Format": "XML",
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "Version": "2014-05-26",
    "SignatureVersion": "1.0",
}
ALIYUN_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
    "%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
)
ALIYUN_SIGNATURE = "CT9X0VtwR86fNWSnsc6v8YGOjuE="

ALIYUN_SEND_OK = {
    "Code": "OK",
    "Message": "OK",
    "BizId": "9006197469364984****",
    "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
}
ALIYUN_SEND_LIMITED = {
    "Message": "触发天级流控Permits:10",
    "RequestId": "C0A0BE93-B44F-4350-BCC8-B677F78C3802",
    "Code": "isv.BUSINESS_LIMIT_CONTROL",
}
ALIYUN_SEND_BAD_NUMBER = {
    "Message": "非法手机号",
    "RequestId": "2184201F-BFB3-446B-B1F2-C746B7BF0657",
    "Code": "isv.MOBILE_NUMBER_ILLEGAL",
}
ALIYUN_REPORT = [
    {
        "phone_number": "1381111****",
        "send_time": "2017-01-01 00:00:00",
        "report_time": "2017-01-01 00:00:00",
        "success": True,
        "err_code": "DELIVERED",
        "err_msg": "用户接收成功",
        "sms_size": "1",
        "biz_id": "12345********",
        "out_id": "67890**",
    }
]

TENCENT_EXAMPLE_SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
TENCENT_EXAMPLE_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
TENCENT_EXAMPLE_PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
TENCENT_EXAMPLE_AUTHORIZATION = (
    "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
    "SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
)

TENCENT_SEND_OK = {
    "Response": {
        "SendStatusSet": [
            {
                "SerialNo": "5000:1045710669157053657849499619",
                "PhoneNumber": "+8618511122233",
                "Fee": 1,
                "SessionContext": "test",
                "Code": "Ok",
                "Message": "send success",
                "IsoCode": "CN",
            }
        ],
        "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
    }
}
TENCENT_SEND_LIMITED = {
    "Response": {
        "SendStatusSet": [
            {
                "SerialNo": "",
                "PhoneNumber": "+8618511122233",
                "Fee": 0,
                "SessionContext": "test",
                "Code": "LimitExceeded.PhoneNumberDailyLimit",
                "Message": (
                    "the number of SMS messages sent from a single mobile number every day exceeds the upper limit"
                ),
                "IsoCode": "CN",
            }
        ],
        "RequestId": "b5b41468-520d-4192-b42f-595cc34b6c1c",
    }
}
TENCENT_AUTH_FAILURE = {
    "Response": {
        "Error": {
            "Code": "AuthFailure.SignatureFailure",
            "Message": "The provided credentials could not be validated. Please check your signature is correct.",
        },
        "RequestId": "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6",
    }
}
TENCENT_REPORT = [
    {
        "user_receive_time": "2015-10-17 08:03:04",
        "nationcode": "86",
        "mobile": "13xxxxxxxxx",
        "report_status": "SUCCESS",
        "errmsg": "DELIVRD",
        "description": "用户短信送达成功",
        "sid": "xxxxxxx",
    }
]

WECOM_TOKEN = {"errcode": 0, "errmsg": "ok", "access_token": "accesstoken000001", "expires_in": 7200}
WECOM_SEND_OK = {
    "errcode": 0,
    "errmsg": "ok",
    "invaliduser": "",
    "invalidparty": "",
    "invalidtag": "",
    "unlicenseduser": "",
    "msgid": "xxxx",
    "response_code": "xyzxyz",
}
WECOM_ALL_INVALID = {
    "errcode": 81013,
    "errmsg": "user & party & tag all invalid, hint: [1684833894235730688668522]",
    "invaliduser": "YinAnPing",
}

MP_TOKEN = {"access_token": "ACCESS_TOKEN", "expires_in": 7200}
MP_SEND_OK = {"errcode": 0, "errmsg": "ok", "msgid": 200228332}
MP_INVALID_CREDENTIAL = {
    "errcode": 40001,
    "errmsg": "invalid credential, access_token is invalid or not latest rid: 6319c8cd-6a277d97-08a656e1",
}
MP_INVALID_OPENID = {"errcode": 40003, "errmsg": "invalid openid rid: 6385c6c1-0fcadca1-22c1fc91"}
MP_BUSY = {"errcode": -1, "errmsg": "system error"}
