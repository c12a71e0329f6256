"""Background and periodic jobs.

Domain code defines jobs with the Django tasks API (`django_tasks.task`) and enqueues them.
`HueyTaskBackend` hands each enqueued task to huey (SQLite file by default, Redis when
`REDIS_URL` is set); `guanxi worker` runs the huey consumer. Periodic jobs are registered
with `register_periodic` from an app's `ready()`; every periodic job must be idempotent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """A task run on a schedule (crontab fields as strings, e.g. minute="*/10")."""

    name: str
    task: Task[Any, Any]
    minute: str = "*"
    hour: str = "*"
    day: str = "*"


_periodic_jobs: dict[str, PeriodicJob] = {}


def register_periodic(task: Task[Any, Any], *, name: str, minute: str = "*", hour: str = "*", day: str = "*") -> None:
    """Register `task` to run on a schedule in the worker; registering twice replaces."""
    _periodic_jobs[name] = PeriodicJob(name=name, task=task, minute=minute, hour=hour, day=day)


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_periodic_jobs.values(), key=lambda job: job.name)


def run_periodic_job(name: str) -> Any:
    """Run one periodic job now, in this process (used by `guanxi jobs run` and by tests)."""
    return _periodic_jobs[name].task.call()


def execute_task_by_path(module_path: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """The one huey task: import a Django task by its path and run it."""
    task: Task[Any, Any] = import_string(module_path)
    return task.call(*args, **kwargs)


RUNNER_NAME = "guanxi.execute_task"


@dataclass(frozen=True)
class HueyRuntime:
    """This process's huey and its one task, the runner that executes any Django task by path."""

    huey: Huey
    runner: TaskWrapper


@cache
def huey_runtime() -> HueyRuntime:
    """Built once per process from settings.GUANXI_HUEY, with the periodic jobs registered so far."""
    conf = settings.GUANXI_HUEY
    huey: Huey
    if conf.get("redis_url"):
        huey = RedisHuey(conf["name"], url=conf["redis_url"], immediate=conf.get("immediate", False))
    else:
        Path(str(conf["sqlite_path"])).parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(conf["name"], filename=conf["sqlite_path"], immediate=conf.get("immediate", False))
    runner = huey.task(name=RUNNER_NAME)(execute_task_by_path)
    for job in periodic_jobs():
        _attach_periodic(huey, job)
    return HueyRuntime(huey=huey, runner=runner)


def get_huey() -> Huey:
    """The huey instance for this process, with the task runner and periodic jobs attached."""
    return huey_runtime().huey


def reset_huey() -> None:
    """Forget the huey instance (tests change settings.GUANXI_HUEY; the next call builds a new one)."""
    huey_runtime.cache_clear()


def _attach_periodic(huey: Huey, job: PeriodicJob) -> None:
    def run_job() -> None:
        logger.info("periodic job %s starting", job.name)
        job.task.call()

    run_job.__name__ = job.name.replace(".", "_")
    huey.periodic_task(crontab(minute=job.minute, hour=job.hour, day=job.day), name=job.name)(run_job)


class HueyTaskBackend(BaseTaskBackend):
    """A django_tasks backend whose tasks run in the huey consumer (`guanxi worker`)."""

    supports_defer = True

    def enqueue(self, task: Task[Any, Any], args: Any, kwargs: Any) -> TaskResult[Any]:
        self.validate_task(task)
        runner = huey_runtime().runner
        result_id = str(uuid.uuid4())
        payload = (task.module_path, list(args), dict(kwargs))
        if task.run_after is not None:
            # schedule() converts the aware run_after into the naive UTC time huey compares with.
            runner.schedule(args=payload, eta=task.run_after, id=result_id)
        else:
            runner.huey.enqueue(runner.task_class(payload, {}, id=result_id))
        result: TaskResult[Any] = TaskResult(
            task=task,
            id=result_id,
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        task_enqueued.send(type(self), task_result=result)
        return result
