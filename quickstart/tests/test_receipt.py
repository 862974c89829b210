"""Tests of checkout.build_receipt against the shop's price file."""
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from checkout import UnknownItem, build_receipt

PRICE_FILE = Path(__file__).resolve().parent.parent / "prices.json"


@pytest.fixture
def prices_path():
    return PRICE_FILE


@pytest.fixture
def cheap_prices(tmp_path):
    """A copy of the price file with the mug on sale."""
    data = json.loads(PRICE_FILE.read_text(encoding="utf-8"))
    data["items"]["mug"]["price"] = "7.50"
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_lines_are_priced_from_the_price_file(prices_path):
    receipt = build_receipt({"beans": 2, "filters": 1}, prices_path)
    assert [(line.name, line.amount) for line in receipt.lines] == [
        ("Espresso beans, 250 g", Decimal("17.80")),
        ("Paper filters, pack of 100", Decimal("3.49")),
    ]
    assert receipt.subtotal == receipt.total == Decimal("21.29")
    assert receipt.currency == "EUR"


def test_prices_are_read_from_the_given_file(cheap_prices):
    receipt = build_receipt({"mug": 2}, cheap_prices)
    assert receipt.total == Decimal("15.00")


def test_receipt_is_stamped_and_numbered(prices_path):
    before = datetime.now()
    first = build_receipt({"mug": 1}, prices_path)
    second = build_receipt({"mug": 1}, prices_path)
    assert before <= first.issued_at <= second.issued_at <= datetime.now()
    assert len(first.order_id) == 12 and first.order_id != second.order_id
    assert first.render().splitlines()[-1].split() == ["TOTAL", "EUR", "12.00"]


@pytest.mark.parametrize("cart, total", [
    ({"grinder": 1}, Decimal("40.50")),
    ({"beans": 2, "filters": 1}, Decimal("19.16")),
    ({"scale": 1, "mug": 3}, Decimal("54.85")),
])
def test_percent_coupon_takes_ten_percent_off(prices_path, cart, total):
    receipt = build_receipt(cart, prices_path, coupon="welcome10")
    assert receipt.total == total


def test_fixed_coupon_on_a_single_item(prices_path):
    receipt = build_receipt({"grinder": 1}, prices_path, coupon="FIVEOFF")
    assert receipt.total == Decimal("40.00")


def test_fixed_coupon_is_taken_off_the_order_once(prices_path):
    cart = {"beans": 2, "filters": 1, "mug": 1}  # 17.80 + 3.49 + 12.00
    expected_total = Decimal("33.29") - Decimal("5.00")
    receipt = build_receipt(cart, prices_path, coupon="FIVEOFF")
    assert receipt.total == expected_total


def test_unknown_item_is_refused(prices_path):
    with pytest.raises(UnknownItem):
        build_receipt({"teapot": 1}, prices_path)
