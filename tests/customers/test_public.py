"""customers.public: what other apps may import, and that every name it promises exists."""

from __future__ import annotations

import guanxi.customers.public as public


def test_every_exported_name_exists() -> None:
    assert [name for name in public.__all__ if not hasattr(public, name)] == []
    assert len(public.__all__) == len(set(public.__all__))


def test_the_names_later_apps_rely_on_are_exported() -> None:
    needed = {
        "Customer", "ContactPoint", "Lead", "Interaction", "Task", "Pool", "PoolEvent", "Handover",
        "customer_get", "customer_list", "customer_queryset", "lead_get", "lead_queryset", "customer_timeline",
        "task_list", "interaction_list", "customer_create", "customer_update", "lead_create", "lead_convert",
        "interaction_log", "task_create", "record_pool_event", "handover_run", "customer_record_contact",
    }  # fmt: skip
    assert needed <= set(public.__all__)
