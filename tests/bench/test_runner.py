"""`make bench` end to end on a small generated database: every scenario runs, answers and is reported."""

from __future__ import annotations

import json

import pytest
from bench.run import format_table, percentile, run

from guanxi.customers.models import Customer, Interaction
from guanxi.customers.scale_data import bench_data_generate
from guanxi.platform.identity.models import ApiToken

EXPECTED = {
    ("list page (first)", "rep"), ("list API (first)", "rep"), ("list page (deep)", "rep"), ("list API (deep)", "rep"),
    ("list page (first)", "manager"), ("list API (deep)", "manager"),
    ("list page (first)", "admin"), ("list API (deep)", "admin"),
    ("360° page", "rep"),
    ("search: 2-character name", "rep"), ("search: pinyin initials", "rep"),
    ("search: phone suffix", "rep"), ("search: email prefix", "rep"),
    ("search: 2-character name", "admin"), ("search: phone suffix", "admin"),
    ("create customer (API)", "rep"), ("log interaction (API)", "rep"),
}  # fmt: skip


def test_a_small_run_measures_every_scenario_and_leaves_the_database_as_it_was(db: None) -> None:
    """One run (generating data and measuring takes a while), checked from every side."""
    bench_data_generate(customers=400, seed=11, batch=400)
    report = run(customers=400, iterations=2, warmup=1, seed=5, progress=lambda _line: None)

    measured = {(f["name"], f["actor"]) for f in report["figures"]}
    assert measured >= EXPECTED
    for figure in report["figures"]:
        assert figure["iterations"] == 2
        assert 0 < figure["median_ms"] <= figure["p95_ms"]
        assert 0 < figure["baseline_median_ms"] <= figure["baseline_p95_ms"]
        assert figure["queries"] > 0

    lists = [f for f in report["figures"] if f["name"].startswith("list API")]
    assert len(lists) == 6
    for figure in lists:  # the same queries whatever the page size
        assert set(figure["queries_by_page_size"]) == {"10", "50", "200"}
        assert len(set(figure["queries_by_page_size"].values())) == 1, figure

    targets = {f["group"]: f["target_p95_ms"] for f in report["figures"]}
    assert targets == {"list": 100.0, "customer": 150.0, "search": 150.0, "write": None}

    assert Customer.objects.count() == 400  # written rows removed again
    assert not Interaction.objects.filter(subject="压测跟进").exists()
    assert not ApiToken.objects.filter(revoked_at__isnull=True).exists()

    assert json.loads(json.dumps(report))["customers"] == 400
    table = format_table(report)
    assert table.splitlines()[0].startswith(f"{report['database']} · 400 customers")
    assert "360° page" in table and "log interaction (API)" in table


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [([5.0], 0.95, 5.0), ([float(n) for n in range(1, 51)], 0.95, 48.0), ([3.0, 1.0, 2.0], 0.5, 2.0)],
)
def test_percentile_is_nearest_rank(values: list[float], fraction: float, expected: float) -> None:
    assert percentile(values, fraction) == expected
