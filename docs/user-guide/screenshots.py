"""Take the user guide's screenshots (docs/user-guide/img/*.png) from a throwaway demo installation.

    .venv/bin/python docs/user-guide/screenshots.py            # every screen
    .venv/bin/python docs/user-guide/screenshots.py pool tasks # only these screens
    .venv/bin/python docs/user-guide/screenshots.py --keep     # keep the temporary database afterwards

What it does:
1. creates a temporary directory with its own SQLite database (GUANXI_VAR_DIR and DATABASE_URL point
   there, so the real var/ is never touched), migrates it, loads the demo company (`guanxi demo`),
   creates the administrator (`guanxi createadmin`) and adds what the demo leaves out but a screen needs
   (custom fields, a saved view, an API token, notifications), all through the services;
2. starts the development server on a free high port, without the background worker;
3. signs in as the demo user who would use each screen, in the Chinese interface (the users' language is
   set to zh-hans), with Debian's Chromium driven by Playwright at 1366x900 (and 390x844, a phone, for the
   customer list and the 360° page);
4. saves one PNG per screen under docs/user-guide/img/ (what is in the window, not the whole page);
5. stops the server and deletes the temporary directory.

The demo data is random but seeded, so the screens look the same from one run to the next (dates move
with the day the script runs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
IMG_DIR = ROOT / "docs" / "user-guide" / "img"
CHROMIUM = os.environ.get("GUANXI_CHROMIUM", "/usr/bin/chromium")
# The same flags as the end-to-end tests (tests/e2e/conftest.py).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOT_ARGS = ["--lang=zh-CN"]  # Chinese date and time pickers
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "guanxi-demo-2024"  # the demo users' password (guanxi.customers.demo.DEMO_PASSWORD)
ADMIN_PASSWORD = "Screens-guanxi-2024!"  # the throwaway administrator's password
SERVER_START_SECONDS = 60


# --- 1. the throwaway installation --------------------------------------------------------------------


def guanxi_env(var_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GUANXI_VAR_DIR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir / 'guanxi.sqlite3'}",
        DJANGO_SETTINGS_MODULE="guanxi.config.settings.dev",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LANGUAGE_CODE="zh-hans",
        PYTHONUNBUFFERED="1",
        # The screenshots sign in with passwords only (the two-factor pages are described in words).
        GUANXI_REQUIRE_2FA_FOR_ADMINS="false",
    )
    return env


def guanxi(env: dict[str, str], *args: str) -> None:
    """Run the `guanxi` command (this Python, so the same virtual environment) and fail loudly."""
    print("$ guanxi", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "guanxi.cli", *args], env=env, check=True, cwd=ROOT)  # noqa: S603


def prepare_data() -> dict[str, Any]:
    """Runs in a child process with the throwaway settings: what the screens need beyond the demo.

    Returns the ids of the records the screens open."""
    import django

    django.setup()
    import datetime as dt

    from django.db.models import Count
    from django.utils import timezone

    from guanxi.customers.models import Customer, Lead, Pool
    from guanxi.customers.models.choices import CustomerKind, LeadStatus
    from guanxi.customers.services.handover import handover_run
    from guanxi.customers.services.tasks import tasks_send_due_reminders
    from guanxi.platform.annotations.selectors import tags_for_objects
    from guanxi.platform.customfields.services import custom_field_save
    from guanxi.platform.identity.models import User
    from guanxi.platform.identity.services import actor_for_user, api_token_create, user_set_preferences
    from guanxi.platform.ui.services import saved_view_save

    for user in User.objects.all():
        user_set_preferences(actor=actor_for_user(user), language="zh-hans", time_zone="Asia/Shanghai")
    admin = actor_for_user(User.objects.get(username="admin"))
    rep = User.objects.get(username="rep1")
    rep_actor = actor_for_user(rep)

    custom_field_save(
        actor=admin, definition=None, target="customers.customer", key="grade", label_zh="客户等级",
        label_en="Customer grade", field_type="choice", position=10,
        choices=[{"value": "a", "label_zh": "A 级", "label_en": "Grade A"},
                 {"value": "b", "label_zh": "B 级", "label_en": "Grade B"},
                 {"value": "c", "label_zh": "C 级", "label_en": "Grade C"}],
    )  # fmt: skip
    custom_field_save(
        actor=admin, definition=None, target="customers.customer", key="annual_budget", label_zh="年度预算",
        label_en="Annual budget", field_type="money", position=20,
        help_text_zh="客户一年的采购预算（人民币）", help_text_en="What the customer spends a year (CNY)",
    )  # fmt: skip
    saved_view_save(actor=rep_actor, target="customers.customer", name="我的重点客户", query="owner=me&rating_min=4")
    saved_view_save(
        actor=rep_actor, target="customers.customer", name="本月待跟进", query="owner=me&sort=next_follow_up_at"
    )
    api_token_create(
        actor=rep_actor, name="企业微信同步", scopes=["customers:read", "customers:write"],
        expires_at=timezone.now() + dt.timedelta(days=180),
    )  # fmt: skip
    tasks_send_due_reminders()
    # A handover, so the handover page has history and rep1 has a notification about it.
    handover_run(
        actor=actor_for_user(User.objects.get(username="manager")),
        from_user_id=User.objects.get(username="rep2").pk,
        to_user_id=rep.pk,
        to_pool_id=None,
        reason="刘洋休假三个月，客户由王磊跟进",
    )

    customer = next(
        (
            c
            for c in Customer.objects.filter(owner=rep, kind=CustomerKind.PERSON, organisation__isnull=False)
            .annotate(n=Count("interactions"))
            .order_by("-n", "id")[:200]
            if {p.kind for p in c.contact_points.all()} >= {"phone", "email"}
            and tags_for_objects(target="customers.customer", object_ids=[c.pk])
        ),
        None,
    )
    lead = Lead.objects.filter(owner=rep, status=LeadStatus.CONTACTED).order_by("-created_at").first()
    return {
        "customer_id": customer.pk if customer else 1,
        "lead_id": lead.pk if lead else 1,
        "rep_id": rep.pk,
        "role_id": rep.role_id,
        "pool_id": Pool.objects.filter(is_default=True).values_list("pk", flat=True).first() or 1,
    }


def install(var_dir: Path) -> dict[str, Any]:
    env = guanxi_env(var_dir)
    guanxi(env, "migrate", "--verbosity", "0")
    guanxi(env, "demo")
    guanxi(env, "createadmin", "--password", ADMIN_PASSWORD)
    output = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--prepare-data"], env=env, check=True, cwd=ROOT, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# --- 2. the server --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(var_dir: Path) -> Iterator[str]:
    """The development server on a free high port, without the worker; stopped on the way out."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (var_dir / "server.log").open("w")
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "guanxi.cli", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=guanxi_env(var_dir),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"The server stopped; see {var_dir / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{url}/login/", timeout=2):  # noqa: S310 (our own local server)
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError("The server did not answer in time.") from None
                time.sleep(0.5)
        print(f"Server running at {url}", flush=True)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# --- 3. the screens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    name: str  # the file name without .png
    user: str  # "" for signed out
    path: str  # may use {customer_id} and {lead_id}
    act: Callable[[Any], None] | None = None  # what to do on the page before the picture
    viewport: dict[str, int] | None = None


def _settle(page: Any) -> None:
    """Wait until htmx panels have loaded (no "Loading…" placeholders left) and the network is quiet."""
    page.wait_for_load_state("networkidle")
    with contextlib.suppress(Exception):
        page.wait_for_function("!document.querySelector('.panel-slot')", timeout=10_000)
    page.wait_for_timeout(300)


def _bad_phone(page: Any) -> None:
    page.locator("#id_name").fill("张伟")
    page.locator("#id_cp_phone").fill("12345")
    page.locator(".customer-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    page.locator("#id_cp_phone").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 200)")


def _search_suggestions(page: Any) -> None:
    page.locator("#global-search-input").press_sequentially("zw", delay=80)
    page.locator("#search-suggest a").first.wait_for()
    page.wait_for_timeout(300)


def _select_rows(page: Any) -> None:
    boxes = page.locator("input[data-row-select]")
    for index in (0, 2, 3):
        boxes.nth(index).check()


def _handover_preview(page: Any) -> None:
    page.locator("#id_from_user").select_option(label=_option_label(page, "#id_from_user", "周杰"))
    page.locator("#id_to_user").select_option(label=_option_label(page, "#id_to_user", "黄丽"))
    page.locator("#id_reason").fill("周杰调往华北销售组")
    page.locator("form.handover-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def _option_label(page: Any, select: str, starts_with: str) -> str:
    labels: list[str] = page.locator(f"{select} option").all_inner_texts()
    return next(label for label in labels if label.startswith(starts_with))


def _scroll(pixels: int) -> Callable[[Any], None]:
    def scroll(page: Any) -> None:
        page.evaluate(f"window.scrollBy(0, {pixels})")

    return scroll


SCREENS: tuple[Screen, ...] = (
    Screen("sign-in", "", "/login/"),
    Screen("workbench", "rep1", "/"),
    Screen("customer-list", "rep1", "/customers/", _select_rows),
    Screen("customer-list-phone", "rep1", "/customers/", viewport=PHONE),
    Screen("customer-360", "rep1", "/customers/{customer_id}/"),
    Screen("customer-360-phone", "rep1", "/customers/{customer_id}/", viewport=PHONE),
    Screen("customer-form", "rep1", "/customers/new/"),
    Screen("customer-form-error", "rep1", "/customers/new/", _bad_phone),
    Screen("lead-list", "rep1", "/leads/"),
    Screen("lead-detail", "rep1", "/leads/{lead_id}/"),
    Screen("lead-convert", "rep1", "/leads/{lead_id}/convert/"),
    Screen("tasks", "rep1", "/tasks/"),
    Screen("pool", "rep1", "/pool/"),
    Screen("handover", "manager", "/handover/", _handover_preview),
    Screen("search", "rep1", "/", _search_suggestions),
    Screen("search-results", "rep1", "/search/?q=zw"),
    Screen("notifications", "rep1", "/notifications/"),
    Screen("preferences", "rep1", "/preferences/"),
    Screen("api-tokens", "rep1", "/settings/tokens/"),
    Screen("settings-users", "admin", "/settings/users/"),
    Screen("settings-user-edit", "admin", "/settings/users/{rep_id}/"),
    Screen("settings-teams", "admin", "/settings/teams/"),
    Screen("settings-roles", "admin", "/settings/roles/"),
    Screen("settings-role-edit", "admin", "/settings/roles/{role_id}/", _scroll(260)),
    Screen("settings-custom-fields", "admin", "/settings/custom-fields/"),
    Screen("settings-pools", "admin", "/settings/pools/"),
    Screen("settings-pool-edit", "admin", "/settings/pools/{pool_id}/edit/"),
    Screen("settings-tags", "admin", "/settings/tags/"),
    Screen("settings-access-log", "admin", "/settings/access-log/"),
)


def _sign_in(browser: Any, base: str, username: str) -> Any:
    """A browser context signed in as `username` (the Chinese interface); reused for that user's screens."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=DESKTOP)
    context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": base}])
    if username:
        page = context.new_page()
        page.goto(f"{base}/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(f"{base}/")
        page.close()
    return context


def take(base: str, ids: dict[str, Any], only: set[str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    IMG_DIR.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + SCREENSHOT_ARGS
        )
        contexts: dict[str, Any] = {}
        try:
            for screen in SCREENS:
                if only and screen.name not in only:
                    continue
                if screen.user not in contexts:
                    contexts[screen.user] = _sign_in(browser, base, screen.user)
                page = contexts[screen.user].new_page()
                page.set_default_timeout(15_000)
                if screen.viewport:
                    page.set_viewport_size(screen.viewport)
                page.goto(base + screen.path.format(**ids))
                _settle(page)
                if screen.act:
                    screen.act(page)
                    _settle(page)
                path = IMG_DIR / f"{screen.name}.png"
                page.screenshot(path=str(path), full_page=False)
                page.close()
                saved.append(path)
                print(f"  {path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB", flush=True)
        finally:
            for context in contexts.values():
                context.close()
            browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("screens", nargs="*", help="Only these screens (file names without .png).")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary directory (it is printed).")
    parser.add_argument("--prepare-data", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare_data:
        print(json.dumps(prepare_data()))
        return
    unknown = set(args.screens) - {screen.name for screen in SCREENS}
    if unknown:
        parser.error(f"unknown screens: {', '.join(sorted(unknown))}")
    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium not found at {CHROMIUM}; install Debian's chromium package (or set GUANXI_CHROMIUM).")
    if (
        not any(Path(CHROMIUM).resolve().parent.glob("locales/zh-CN.pak"))
        and not Path("/usr/lib/chromium/locales/zh-CN.pak").exists()
    ):
        print("Note: Chromium has no Chinese locale (Debian package chromium-l10n): date pickers show mm/dd/yyyy.")
    var_dir = Path(tempfile.mkdtemp(prefix="guanxi-screens-"))
    print(f"Throwaway installation in {var_dir}", flush=True)
    try:
        ids = install(var_dir)
        with server(var_dir) as base:
            saved = take(base, ids, set(args.screens))
        print(f"{len(saved)} screenshots in {IMG_DIR.relative_to(ROOT)}/")
    finally:
        if args.keep:
            print(f"Kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
