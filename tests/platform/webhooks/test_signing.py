"""The signature header and its verification, the secret, and the body's stable form."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

from guanxi.platform.webhooks.signing import delivery_body, new_secret, webhook_signature, webhook_signature_verify

SECRET = "whsec_test-secret"
BODY = b'{"id":1,"event":"customer.created"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    header = webhook_signature(SECRET, BODY, timestamp=1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_a_receiver_accepts_a_fresh_signature_and_refuses_everything_else() -> None:
    header = webhook_signature(SECRET, BODY, timestamp=1_700_000_000)
    now = 1_700_000_100.0
    assert webhook_signature_verify(SECRET, header, BODY, 300, now=now)
    assert not webhook_signature_verify("whsec_other", header, BODY, 300, now=now)  # wrong secret
    assert not webhook_signature_verify(SECRET, header, BODY + b" ", 300, now=now)  # body changed
    assert not webhook_signature_verify(SECRET, header, BODY, 60, now=now)  # too old: a replay
    assert not webhook_signature_verify(SECRET, header.replace("t=1700000000", "t=1700000050"), BODY, 300, now=now)
    for broken in ("", "t=abc,v1=00", "v1=" + "0" * 64, "t=1700000000", "garbage"):
        assert not webhook_signature_verify(SECRET, broken, BODY, 300, now=now)


def test_one_matching_v1_entry_is_enough() -> None:
    good = webhook_signature(SECRET, BODY, timestamp=1_700_000_000).split(",")[1]
    header = f"t=1700000000,v1={'0' * 64},{good}"
    assert webhook_signature_verify(SECRET, header, BODY, 300, now=1_700_000_000)


def test_secrets_are_random_and_recognisable() -> None:
    first, second = new_secret(), new_secret()
    assert first != second
    assert first.startswith("whsec_") and len(first) == len("whsec_") + 43


def test_the_body_has_a_fixed_key_order_and_sorted_data() -> None:
    body = delivery_body(
        delivery_id=7,
        event="customer.updated",
        event_id="abc",
        occurred_at="2025-01-31T01:30:00+00:00",
        record_type="customers.customer",
        data={"record_id": 3, "changes": {"name": ["甲", "乙"], "email": [None, "a@example.com"]}},
    )
    assert (
        body
        == (
            '{"id":7,"event":"customer.updated","event_id":"abc","occurred_at":"2025-01-31T01:30:00+00:00",'
            '"record_type":"customers.customer","data":{"changes":{"email":[null,"a@example.com"],'
            '"name":["甲","乙"]},"record_id":3}}'
        ).encode()
    )
    assert json.loads(body)["data"]["changes"]["name"] == ["甲", "乙"]


def test_the_receiver_snippet_in_the_user_guide_verifies_our_signatures() -> None:
    guide = (Path(__file__).parents[3] / "docs" / "user-guide" / "webhooks.md").read_text()
    marker = guide.index("<!-- webhook-verify-snippet")
    code = guide[
        guide.index("```python", marker) + len("```python") : guide.index("```", guide.index("```python", marker) + 9)
    ]
    namespace: dict[str, Any] = {}
    exec(compile(code, "webhooks.md", "exec"), namespace)
    verify = namespace["verify"]
    header = webhook_signature(SECRET, BODY)
    assert verify(SECRET, header, BODY)
    assert not verify(SECRET, header, BODY + b"x")
    assert not verify("whsec_other", header, BODY)
    assert not verify(SECRET, webhook_signature(SECRET, BODY, timestamp=int(time.time()) - 3600), BODY)
    assert not verify(SECRET, "nonsense", BODY)
