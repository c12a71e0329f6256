"""Phones as people read them on pages: national format at home, international abroad, masked keeping spacing."""

import pytest

from guanxi.platform.core.masking import mask_readable_phone
from guanxi.platform.core.phones import readable_phone


@pytest.mark.parametrize(
    ("stored", "readable", "masked"),
    [
        ("+8613812345678", "138 1234 5678", "138 **** 5678"),
        ("+861065529988;ext=123", "010 6552 9988 ext. 123", "010 **** 9988"),
        ("+85291234567", "+852 9123 4567", "+852 **** 4567"),
        ("+16502530000", "+1 650-253-0000", "+1 65*-***-0000"),
    ],
)
def test_readable_and_masked_forms(stored: str, readable: str, masked: str) -> None:
    assert readable_phone(stored) == readable
    assert mask_readable_phone(readable) == masked


def test_unparseable_stored_value_is_shown_as_is() -> None:
    assert readable_phone("not a phone") == "not a phone"
