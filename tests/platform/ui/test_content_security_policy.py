"""Content-Security-Policy: the header on every page, the per-response nonce on our scripts, and
templates free of what the policy forbids (inline scripts without a nonce, event handlers, styles)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.test import Client

import guanxi

TEMPLATES = sorted(Path(guanxi.__file__).parent.rglob("templates/**/*.html"))
SCRIPTS = sorted(Path(guanxi.__file__).parent.rglob("static/**/*.js"))


def _policy(response: Any) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in header.split(";")) if part}


def test_pages_send_the_strict_policy_with_this_responses_nonce() -> None:
    response = Client().get("/login/")
    policy = _policy(response)
    nonce = re.search(r"'nonce-([^']+)'", policy["script-src"])
    assert nonce is not None
    assert policy == {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce.group(1)}'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
        "base-uri": "'self'",
        "object-src": "'none'",
    }
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) == 2  # htmx and guanxi.js
    assert all(f'nonce="{nonce.group(1)}"' in tag and "src=" in tag for tag in scripts)


def test_every_response_gets_a_new_nonce() -> None:
    first = _policy(Client().get("/login/"))["script-src"]
    second = _policy(Client().get("/login/"))["script-src"]
    assert first != second


def test_signed_in_pages_and_the_api_docs_carry_the_policy(org: Any) -> None:
    client = Client()
    client.force_login(org.admin)
    for url in ("/", "/customers/", "/settings/users/", "/api/v1/docs"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_htmx_is_configured_to_need_neither_eval_nor_inline_styles() -> None:
    html = Client().get("/login/").content.decode()
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', html)
    assert config is not None
    assert '"includeIndicatorStyles": false' in config.group(1)
    assert '"allowEval": false' in config.group(1)
    assert '"allowScriptTags": false' in config.group(1)


def test_templates_hold_no_inline_handlers_styles_or_scripts_without_nonce() -> None:
    assert TEMPLATES
    problems = []
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        name = template.relative_to(Path(guanxi.__file__).parent)
        for pattern, what in (
            (r"\son[a-z]+\s*=", "inline event handler"),
            (r"\shx-on", "hx-on handler"),
            (r"\sstyle\s*=", "style attribute"),
            (r"<style\b", "style element"),
            (r"javascript:", "javascript: URL"),
            (r"js:", "htmx js: expression"),
        ):
            if re.search(pattern, text, re.IGNORECASE):
                problems.append(f"{name}: {what}")
        for tag in re.findall(r"<script\b[^>]*>", text, re.IGNORECASE):
            if "nonce=" not in tag and 'type="application/json"' not in tag:
                problems.append(f"{name}: script without nonce: {tag}")
        if "/partials/" in str(name) and re.search(r"<script\b", text, re.IGNORECASE):
            problems.append(f"{name}: script in a partial (htmx does not run swapped scripts)")
    assert problems == []


def test_static_scripts_use_no_eval() -> None:
    for script in SCRIPTS:
        text = script.read_text(encoding="utf-8")
        assert not re.search(r"\beval\(|new Function\(|setTimeout\(\s*['\"]", text), script
