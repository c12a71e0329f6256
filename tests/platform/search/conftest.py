"""Fixtures for the search API and pages: the customers and leads of tests/customers/selectors/search_data."""

from __future__ import annotations

import pytest

from tests.customers.selectors.search_data import SearchData, build_search_data


@pytest.fixture
def data(org) -> SearchData:
    return build_search_data(org)
