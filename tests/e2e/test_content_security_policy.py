"""End-to-end: under the strict Content-Security-Policy, the main pages load and htmx works in Chromium,
with no CSP violation and no error in the console.

The policy has no 'unsafe-inline' and no 'unsafe-eval', so any inline script, inline event handler,
inline style or eval() that slipped into a template or a static script shows up here as a violation.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from guanxi.platform.identity.models import User
from tests.customers.pool_data import make_pool, pool_customer
from tests.factories import CustomerFactory, LeadFactory, TeamFactory, UserFactory, role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # the password every factory user gets

# Registered before any page script runs; a violation report also reaches the console, but this keeps
# the directive and the blocked resource for a readable failure.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  window.__csp.push(`${event.violatedDirective} blocked ${blocked} at ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture
def admin(db: None) -> User:
    team = TeamFactory(name="总部")
    return UserFactory(username="wang.admin", display_name="王管理", team=team, role=role("administrator"))


class ConsoleWatch:
    """Console errors and uncaught exceptions of a page, collected while it is driven."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.add_init_script(RECORD_VIOLATIONS)
        self.page = page

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning") and "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")
        elif message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, f"{url}: {response and response.status}"
        assert "script-src" in (response.headers.get("content-security-policy") or ""), url
        self.page.wait_for_load_state("networkidle")
        self.check(url)

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__csp || []")
        assert violations == [], f"{where}: {violations}"
        assert self.problems == [], f"{where}: {self.problems}"


def sign_in(page: Any, base: str, user: User) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def test_main_pages_load_without_csp_violations_or_console_errors(page: Any, live_server: Any, admin: User) -> None:
    base = live_server.url
    customer = CustomerFactory(name="张伟", owner=admin)
    LeadFactory(name="李雷", owner=admin)
    pool_customer(make_pool(name="公司公海", is_default=True), name="王芳", days_in_pool=2)
    watch = ConsoleWatch(page)

    watch.visit(f"{base}/login/")
    sign_in(page, base, admin)
    watch.check("sign-in")

    for path in (
        "/",
        "/customers/",
        f"/customers/{customer.pk}/",
        "/leads/",
        "/pool/",
        "/settings/users/",
        "/settings/roles/",
        "/settings/tokens/",
        "/preferences/",
        "/account/two-factor/",
        "/account/two-factor/setup/",
        "/api/v1/docs",
    ):
        watch.visit(f"{base}{path}")

    # The API docs (Swagger UI) rendered the operations from the schema.
    page.get_by_text("/api/v1/customers", exact=False).first.wait_for()
    watch.check("api docs")


def test_htmx_swaps_work_under_the_policy(page: Any, live_server: Any, admin: User) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    CustomerFactory(name="张伟", owner=admin)
    CustomerFactory(name="赵敏", owner=admin)
    watch = ConsoleWatch(page)
    sign_in(page, base, admin)

    # The global search suggestions arrive through an htmx swap.
    search = page.get_by_role("banner").get_by_role("searchbox", name="Search")
    search.fill("张伟")
    expect(page.locator("#search-suggest")).to_contain_text("张伟")

    # The customer list filter re-renders the results through htmx (and pushes the URL).
    watch.visit(f"{base}/customers/")
    page.get_by_role("main").get_by_role("searchbox").first.fill("赵敏")
    page.get_by_role("main").get_by_role("searchbox").first.press("Enter")
    page.wait_for_url(re.compile(r"q=%E8%B5%B5"))
    expect(page.get_by_role("main")).not_to_contain_text("张伟")
    expect(page.get_by_role("main")).to_contain_text("赵敏")

    page.wait_for_load_state("networkidle")
    watch.check("htmx swaps")
