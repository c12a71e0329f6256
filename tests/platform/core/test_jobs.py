"""Background jobs: the huey task backend, the periodic-job registry and the worker's consumer."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from guanxi.platform.core import jobs
from guanxi.platform.core.jobs import (
    HueyTaskBackend,
    get_huey,
    periodic_jobs,
    register_periodic,
    reset_huey,
    run_periodic_job,
)
from guanxi.platform.core.management.commands.guanxi_worker import GracefulConsumer, build_consumer
from tests.platform.core.sample_tasks import CALLS, remember, tick


@pytest.fixture(autouse=True)
def fresh_huey(settings, tmp_path) -> Iterator[None]:
    """Each test gets its own huey (a SQLite file in a temporary folder) and an empty call log."""
    settings.GUANXI_HUEY = {
        "name": "test",
        "redis_url": "",
        "sqlite_path": str(tmp_path / "huey.db"),
        "immediate": True,
    }
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
        "huey": {"BACKEND": "guanxi.platform.core.jobs.HueyTaskBackend"},
    }
    reset_huey()
    CALLS.clear()
    yield
    reset_huey()
    CALLS.clear()


@pytest.fixture
def queued_huey(settings, tmp_path) -> None:
    settings.GUANXI_HUEY = {**settings.GUANXI_HUEY, "immediate": False}
    reset_huey()


def backend() -> HueyTaskBackend:
    return HueyTaskBackend(alias="huey", params={})


def test_immediate_huey_runs_the_task_on_enqueue():
    result = remember.using(backend="huey").enqueue("a", times=2)
    assert CALLS == ["a", "a"]
    assert result.task.func is remember.func
    assert result.args == ["a"]
    assert result.kwargs == {"times": 2}
    assert result.backend == "huey"


def test_backend_instance_enqueues_directly():
    backend().enqueue(remember, ["z"], {})
    assert CALLS == ["z"]


def test_queued_task_waits_for_the_worker_then_runs(queued_huey):
    result = remember.using(backend="huey").enqueue("b")
    huey = get_huey()
    assert CALLS == []
    assert huey.pending_count() == 1
    queued = huey.dequeue()
    assert queued.id == result.id
    assert huey.execute(queued) == "B"
    assert CALLS == ["b"]
    assert huey.pending_count() == 0


def test_deferred_task_is_scheduled_in_utc(queued_huey):
    later = timezone.now() + dt.timedelta(hours=1)
    remember.using(backend="huey", run_after=later).enqueue("c")
    huey = get_huey()
    queued = huey.dequeue()
    assert queued.eta.tzinfo is None  # huey compares naive UTC times
    assert abs(queued.eta - later.astimezone(dt.UTC).replace(tzinfo=None)) < dt.timedelta(seconds=1)
    assert huey.execute(queued) is None  # not yet due: it goes to the schedule instead of running
    assert huey.scheduled_count() == 1
    assert CALLS == []


def test_the_sqlite_file_is_created_in_its_folder(queued_huey, settings, tmp_path):
    settings.GUANXI_HUEY = {**settings.GUANXI_HUEY, "sqlite_path": str(tmp_path / "new" / "dir" / "huey.db")}
    reset_huey()
    backend().enqueue(remember, ["d"], {})
    assert (tmp_path / "new" / "dir" / "huey.db").exists()


def test_periodic_registry_attaches_jobs_to_huey(monkeypatch):
    monkeypatch.setattr(jobs, "_periodic_jobs", {})
    register_periodic(tick, name="customers.tick", minute="*/5", hour="8")
    register_periodic(tick, name="alpha.first")
    assert [job.name for job in periodic_jobs()] == ["alpha.first", "customers.tick"]
    huey = get_huey()
    due = {t.name for t in huey.read_periodic(dt.datetime(2025, 1, 6, 8, 10))}
    assert due == {"alpha.first", "customers.tick"}
    due_later = {t.name for t in huey.read_periodic(dt.datetime(2025, 1, 6, 9, 10))}
    assert due_later == {"alpha.first"}


def test_periodic_job_runs_in_the_worker_and_on_demand(monkeypatch):
    monkeypatch.setattr(jobs, "_periodic_jobs", {})
    register_periodic(tick, name="customers.tick", minute="0")
    assert run_periodic_job("customers.tick") == "tick"
    [periodic] = get_huey().read_periodic(dt.datetime(2025, 1, 6, 8, 0))
    get_huey().execute(periodic)
    assert CALLS == ["tick", "tick"]


def test_registering_twice_replaces(monkeypatch):
    monkeypatch.setattr(jobs, "_periodic_jobs", {})
    register_periodic(remember, name="same", minute="1")
    register_periodic(remember, name="same", minute="2")
    assert [(job.name, job.minute) for job in periodic_jobs()] == [("same", "2")]


def test_worker_refuses_immediate_mode():
    with pytest.raises(CommandError, match="immediate"):
        build_consumer(workers=1, worker_type="thread")


def test_worker_needs_at_least_one_worker(queued_huey):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("guanxi_worker", workers=0)


def test_worker_consumer_stops_gracefully_on_sigterm_and_sigint(queued_huey):
    consumer = build_consumer(workers=3, worker_type="thread")
    assert isinstance(consumer, GracefulConsumer)
    assert consumer.workers == 3
    assert consumer.periodic is True
    assert consumer._signal_actions[signal.SIGTERM] == (False, True)
    assert consumer._signal_actions[signal.SIGINT] == (False, True)


def test_worker_consumer_executes_queued_tasks(queued_huey):
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer = build_consumer(workers=1, worker_type="thread", periodic=False)
    try:
        consumer.start()
        remember.using(backend="huey").enqueue("e")
        deadline = time.monotonic() + 10
        while not CALLS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert CALLS == ["e"]
    finally:
        consumer.stop(graceful=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
