"""gunicorn's configuration for production (`guanxi serve`, or `gunicorn -c python:guanxi.config.gunicorn`).

Every value can be overridden from the environment (GUANXI_WEB_*), so the systemd unit or the env
file tunes a server without editing code. The access log carries no personal data: no client
address, no query string (searches hold names and phone numbers), no referrer or user agent.
"""

from __future__ import annotations

import os

MAX_DEFAULT_WORKERS = 12


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def available_cpus() -> int:
    """CPUs this process may run on (respects taskset/cgroup cpusets), at least 1."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def default_workers(cpus: int) -> int:
    """2 x cores + 1, the usual figure for a mostly-waiting web app, capped so a big host does not
    open more database connections than PostgreSQL's max_connections can take."""
    return min(2 * cpus + 1, MAX_DEFAULT_WORKERS)


wsgi_app = "guanxi.config.wsgi:application"
proc_name = "guanxi-web"

bind = os.environ.get("GUANXI_WEB_BIND", "127.0.0.1:8000").split(",")
workers = _env_int("GUANXI_WEB_WORKERS", default_workers(available_cpus()))
# Threads let one worker overlap a slow database call with another request; each thread holds its
# own persistent database connection, so connections = workers x threads.
threads = _env_int("GUANXI_WEB_THREADS", 2)
worker_class = "gthread" if threads > 1 else "sync"

timeout = _env_int("GUANXI_WEB_TIMEOUT", 60)  # a worker silent this long is killed and replaced
graceful_timeout = _env_int("GUANXI_WEB_GRACEFUL_TIMEOUT", 30)  # SIGTERM/SIGHUP: finish requests this long
keepalive = 5  # behind nginx on the same host; a little longer than nginx keeps its upstream sockets

# Recycle each worker after about this many requests (jittered so they do not restart together):
# a cap on slow memory growth in long-lived processes.
max_requests = _env_int("GUANXI_WEB_MAX_REQUESTS", 2000)
max_requests_jitter = _env_int("GUANXI_WEB_MAX_REQUESTS_JITTER", max(max_requests // 10, 1))

# Code is loaded in each worker, not in the master, so `systemctl reload` (SIGHUP) starts workers
# with the new code and lets the old ones finish their requests.
preload_app = False
# Heartbeat files in memory, not on a disk that may stall; gunicorn creates them with mkstemp (private).
_SHM = "/dev/shm"  # noqa: S108  # nosec B108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
control_socket_disable = True  # gunicorn's control socket (in $HOME) is not used; systemd sends the signals

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_line = 8190
limit_request_fields = 100

accesslog = os.environ.get("GUANXI_WEB_ACCESS_LOG", "-")
errorlog = os.environ.get("GUANXI_WEB_ERROR_LOG", "-")
loglevel = os.environ.get("GUANXI_WEB_LOG_LEVEL", "info")
# time, method, path without the query string, protocol, status, bytes, duration in ms, <worker pid>
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %(p)s'
