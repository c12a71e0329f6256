"""A working day of sales reps, for locust: browse the customer list, open customers, log follow-ups, search.

Run through `make bench-load` (bench/load.py starts gunicorn and hands each simulated user a signed-in
session of a bench rep). Run by hand:

    GUANXI_LOAD_SESSIONS=/tmp/sessions.json locust -f bench/locustfile.py --headless -u 50 -r 10 \\
        -t 60s --host http://127.0.0.1:8100

The sessions file maps session keys to the customer ids and search terms of that rep (bench/load.py
writes it). The task weights follow what reps do most: lists and customer pages, then search, then
logging a follow-up.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from locust import HttpUser, between, task

_SESSIONS: list[dict[str, Any]] = []


def _sessions() -> list[dict[str, Any]]:
    if not _SESSIONS:
        with open(os.environ["GUANXI_LOAD_SESSIONS"], encoding="utf-8") as handle:
            _SESSIONS.extend(json.load(handle))
    return _SESSIONS


class SalesRep(HttpUser):
    """One rep: signed in with a session cookie, working through their own customers."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        sessions = _sessions()
        self.rep = sessions[id(self) % len(sessions)]
        self.client.cookies.set("sessionid", self.rep["session_key"])
        self.client.cookies.set("csrftoken", self.rep["csrf_token"])
        self.next_cursor: str | None = None

    def _get(self, path: str, name: str, params: dict[str, Any] | None = None) -> Any:
        """GET without following redirects: a redirect (to the login page) counts as a failure."""
        with self.client.get(path, params=params or {}, name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
            return r

    def _customer_id(self) -> int:
        return int(random.choice(self.rep["customer_ids"]))

    @task(6)
    def browse_list(self) -> None:
        params = {"cursor": self.next_cursor} if self.next_cursor and random.random() < 0.3 else {}
        self._get("/customers/", "/customers/", params)

    @task(2)
    def browse_list_api(self) -> None:
        response = self._get("/api/v1/customers", "/api/v1/customers", {"limit": 50})
        if response.status_code == 200:
            self.next_cursor = response.json().get("next_cursor")

    @task(5)
    def open_customer(self) -> None:
        self._get(f"/customers/{self._customer_id()}/", "/customers/[id]/")

    @task(2)
    def open_timeline(self) -> None:
        self._get(f"/customers/{self._customer_id()}/timeline/", "/customers/[id]/timeline/")

    @task(3)
    def search(self) -> None:
        term = random.choice(self.rep["search_terms"])
        self._get("/api/v1/search", "/api/v1/search", {"q": term, "limit": 8})

    @task(1)
    def log_follow_up(self) -> None:
        customer_id = self._customer_id()
        with self.client.post(
            f"/customers/{customer_id}/interactions/",
            data={"channel": "call", "direction": "outbound", "outcome": "reached", "subject": "电话回访"},
            headers={"X-CSRFToken": self.rep["csrf_token"], "HX-Request": "true", "Referer": self.host + "/"},
            name="/customers/[id]/interactions/",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code not in (200, 201):
                response.failure(f"status {response.status_code}")
