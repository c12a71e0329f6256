"""The `guanxi` command: createadmin, jobs, and what `guanxi run` does before it serves."""

from __future__ import annotations

import signal
import stat
import sys
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from guanxi import cli
from guanxi.platform.core import jobs
from guanxi.platform.core.jobs import register_periodic
from guanxi.platform.core.management.commands import guanxi_run
from guanxi.platform.identity.models import Team, User
from tests.platform.core.sample_tasks import CALLS, tick


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run `guanxi <args>` in this process: cli.main maps the alias, then call_command runs it (unlike
    execute_from_command_line, call_command leaves the test's database connection open)."""
    import django.core.management as management

    def run(*args: str) -> str:
        argv: list[str] = []
        monkeypatch.setattr(management, "execute_from_command_line", argv.extend)
        cli.main(list(args))
        if len(argv) > 1:
            call_command(argv[1], *argv[2:])
        return capsys.readouterr().out

    return run


def test_aliases_map_to_the_management_commands(monkeypatch):
    seen: list[list[str]] = []
    import django.core.management as management

    monkeypatch.setattr(management, "execute_from_command_line", seen.append)
    cli.main(["run", "--port", "8001"])
    cli.main(["worker"])
    cli.main(["demo", "--customers", "10"])
    cli.main(["createadmin"])
    cli.main(["jobs", "list"])
    cli.main(["migrate"])
    assert seen == [
        ["guanxi", "guanxi_run", "--port", "8001"],
        ["guanxi", "guanxi_worker"],
        ["guanxi", "guanxi_demo", "--customers", "10"],
        ["guanxi", "guanxi_createadmin"],
        ["guanxi", "guanxi_jobs", "list"],
        ["guanxi", "migrate"],
    ]


def password_from(output: str) -> str:
    return next(line.split("Password: ", 1)[1].strip() for line in output.splitlines() if "Password: " in line)


def test_help_lists_the_short_commands(run_cli):
    out = run_cli()
    for name in ("guanxi run", "guanxi worker", "guanxi demo", "guanxi createadmin"):
        assert name in out


def test_createadmin_prints_a_login_and_stores_it(db, run_cli, var_dir):
    out = run_cli("createadmin")
    password = password_from(out)
    assert "Username: admin" in out
    assert len(password) >= 16
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.role.code == "administrator"
    assert admin.team.name == "Head office"
    assert admin.team.parent is None
    assert admin.check_password(password)
    login = var_dir / "admin-login.txt"
    assert login.read_text() == f"URL: http://127.0.0.1:8000/\nUsername: admin\nPassword: {password}\n"
    assert stat.S_IMODE(login.stat().st_mode) == 0o600


def test_createadmin_is_idempotent(db, run_cli, var_dir):
    first = password_from(run_cli("createadmin"))
    again = run_cli("createadmin")
    assert password_from(again) == first
    assert User.objects.filter(username="admin").count() == 1
    assert Team.objects.count() == 1


def test_createadmin_joins_the_existing_head_office(org, run_cli, var_dir):
    run_cli("createadmin", "--username", "boss")
    boss = User.objects.get(username="boss")
    assert boss.team == org.hq


def test_createadmin_existing_user_without_stored_login(org, run_cli, var_dir):
    out = run_cli("createadmin")  # the org fixture has a user called "admin" already
    assert "already exists" in out
    assert "guanxi changepassword admin" in out
    assert not (var_dir / "admin-login.txt").exists()


def test_createadmin_with_a_given_password(db, run_cli, var_dir):
    out = run_cli("createadmin", "--username", "root", "--password", "a-long-enough-passphrase")
    assert "created with the password you gave" in out
    assert User.objects.get(username="root").check_password("a-long-enough-passphrase")
    assert not (var_dir / "admin-login.txt").exists()


def test_createadmin_refuses_a_weak_password(db, var_dir):
    with pytest.raises(CommandError, match="password"):
        call_command("guanxi_createadmin", password="123")
    assert not User.objects.exists()


def test_jobs_list_and_run(db, run_cli, monkeypatch):
    monkeypatch.setattr(jobs, "_periodic_jobs", {})
    assert run_cli("jobs", "list").strip() == "No periodic jobs are registered."
    register_periodic(tick, name="customers.tick", minute="*/10")
    out = run_cli("jobs", "list")
    assert out.strip() == "customers.tick\tminute=*/10 hour=* day=*\ttests.platform.core.sample_tasks.tick"
    CALLS.clear()
    out = run_cli("jobs", "run", "customers.tick")
    assert "customers.tick: done (tick)" in out
    assert CALLS == ["tick"]
    CALLS.clear()


def test_jobs_run_unknown_name(db, monkeypatch):
    monkeypatch.setattr(jobs, "_periodic_jobs", {})
    with pytest.raises(CommandError, match="No periodic job named"):
        call_command("guanxi_jobs", "run", "nope")


def test_registered_jobs_are_listed(db, run_cli):
    out = run_cli("jobs", "list")
    assert all("\t" in line for line in out.strip().splitlines())


# guanxi run ---------------------------------------------------------------------------------------


class FakeProcess:
    """A child process that has already exited (so `guanxi run` stops right after starting)."""

    started: list[list[str]] = []

    def __init__(self, args: list[str], **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs
        self.signals: list[int] = []
        FakeProcess.started.append(args)

    def poll(self) -> int:
        return 3

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)

    def wait(self, timeout: float | None = None) -> int:
        return 3

    def kill(self) -> None:
        raise AssertionError("not needed: the process has exited")


@pytest.fixture
def fake_run(monkeypatch, var_dir):
    calls: list[tuple[str, dict[str, Any]]] = []

    def fake_call_command(name: str, *args: Any, **kwargs: Any) -> None:
        calls.append((name, kwargs))

    FakeProcess.started = []
    monkeypatch.setattr(guanxi_run, "call_command", fake_call_command)
    monkeypatch.setattr(guanxi_run.subprocess, "Popen", FakeProcess)
    return calls


def test_run_prepares_then_serves_with_the_worker(db, fake_run, var_dir):
    with pytest.raises(CommandError, match="The web server stopped \\(exit code 3\\)"):
        call_command("guanxi_run", port=8765)
    assert [name for name, _kw in fake_run] == ["migrate", "guanxi_demo", "guanxi_createadmin"]
    assert fake_run[2][1] == {"url": "http://127.0.0.1:8765/"}
    assert FakeProcess.started == [
        [sys.executable, "-m", "guanxi.cli", "runserver", "127.0.0.1:8765", "--noreload"],
        [sys.executable, "-m", "guanxi.cli", "worker", "--workers", "2"],
    ]
    assert (var_dir / "demo-loaded").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored


def test_run_loads_the_demo_only_once(db, fake_run, var_dir):
    for _ in range(2):
        with pytest.raises(CommandError):
            call_command("guanxi_run")
    assert [name for name, _kw in fake_run].count("guanxi_demo") == 1


def test_run_without_demo_and_worker(db, fake_run, var_dir):
    with pytest.raises(CommandError):
        call_command("guanxi_run", "--no-demo", "--no-worker", "--host", "0.0.0.0", "--port", "9000")
    assert [name for name, _kw in fake_run] == ["migrate", "guanxi_createadmin"]
    assert FakeProcess.started == [[sys.executable, "-m", "guanxi.cli", "runserver", "0.0.0.0:9000", "--noreload"]]
    assert not (var_dir / "demo-loaded").exists()


def test_run_goes_on_when_the_demo_refuses(db, monkeypatch, var_dir):
    names: list[str] = []

    def refusing(name: str, *args: Any, **kwargs: Any) -> None:
        names.append(name)
        if name == "guanxi_demo":
            raise CommandError("The demo company is already loaded (its users exist).")

    monkeypatch.setattr(guanxi_run, "call_command", refusing)
    monkeypatch.setattr(guanxi_run.subprocess, "Popen", FakeProcess)
    with pytest.raises(CommandError, match="stopped"):
        call_command("guanxi_run", "--no-worker")
    assert names == ["migrate", "guanxi_demo", "guanxi_createadmin"]
    assert (var_dir / "demo-loaded").exists()


def test_stop_children_interrupts_running_children():
    class Running(FakeProcess):
        def __init__(self) -> None:
            super().__init__(["x"])
            self.stopped = False

        def poll(self) -> int | None:  # type: ignore[override]
            return 0 if self.stopped else None

        def send_signal(self, sig: int) -> None:
            super().send_signal(sig)
            self.stopped = True

    web, worker = Running(), Running()
    guanxi_run.stop_children({"web server": web, "worker": worker})  # type: ignore[dict-item]
    assert web.signals == [signal.SIGINT]
    assert worker.signals == [signal.SIGINT]
