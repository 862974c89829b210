"""Receipts: a cart priced from the shop's price file, a coupon applied, stamped and numbered."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

CENT = Decimal("0.01")


class UnknownItem(KeyError):
    """The cart names an item (or a coupon) the price file does not have."""


@dataclass(frozen=True)
class Coupon:
    """A percentage off, or a fixed amount off the order."""

    code: str
    percent: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)

    def discount_on(self, price: Decimal) -> Decimal:
        """What this coupon takes off ``price``, rounded to the cent."""
        if self.percent:
            return (price * self.percent / 100).quantize(CENT, ROUND_HALF_UP)
        return min(self.amount, price)


@dataclass(frozen=True)
class PriceList:
    currency: str
    items: dict[str, tuple[str, Decimal]]
    coupons: dict[str, Coupon]

    def item(self, sku: str) -> tuple[str, Decimal]:
        """(name, unit price) of an item."""
        try:
            return self.items[sku]
        except KeyError:
            raise UnknownItem(sku) from None

    def coupon(self, code: str) -> Coupon:
        try:
            return self.coupons[code.upper()]
        except KeyError:
            raise UnknownItem(code) from None


def load_prices(path: str | Path) -> PriceList:
    """Read a price file (see prices.json). Prices are strings, so they stay exact."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    items = {sku: (entry["name"], Decimal(entry["price"])) for sku, entry in data["items"].items()}
    coupons = {
        code: Coupon(code, Decimal(entry.get("percent", 0)), Decimal(entry.get("amount", 0)))
        for code, entry in data.get("coupons", {}).items()
    }
    return PriceList(data["currency"], items, coupons)


@dataclass(frozen=True)
class Line:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Receipt:
    order_id: str
    issued_at: datetime
    currency: str
    lines: tuple[Line, ...] = field(repr=False)
    coupon: str | None
    subtotal: Decimal
    discount: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount

    def render(self) -> str:
        """The receipt as printed at the till."""
        rows = [f"Order {self.order_id}   {self.issued_at:%Y-%m-%d %H:%M}"]
        for line in self.lines:
            rows.append(f"{line.quantity:>3} x {line.name:<28} {line.amount:>8}")
        rows.append(f"{'Subtotal':<34} {self.subtotal:>8}")
        if self.coupon:
            rows.append(f"{'Coupon ' + self.coupon:<34} {-self.discount:>8}")
        rows.append(f"{'TOTAL ' + self.currency:<34} {self.total:>8}")
        return "\n".join(rows)


def build_receipt(cart: dict[str, int], prices_path: str | Path, coupon: str | None = None) -> Receipt:
    """Price ``cart`` ({sku: quantity}) from the price file and apply ``coupon``."""
    prices = load_prices(prices_path)
    offer = prices.coupon(coupon) if coupon else None
    lines = []
    subtotal = discount = Decimal("0.00")
    for sku, quantity in cart.items():
        if quantity < 1:
            raise ValueError(f"{sku}: quantity must be at least 1, not {quantity}")
        name, unit_price = prices.item(sku)
        line = Line(sku, name, quantity, unit_price)
        lines.append(line)
        subtotal += line.amount
        if offer is not None:
            discount += offer.discount_on(line.amount)
    return Receipt(
        order_id=uuid.uuid4().hex[:12].upper(),
        issued_at=datetime.now(),
        currency=prices.currency,
        lines=tuple(lines),
        coupon=offer.code if offer else None,
        subtotal=subtotal,
        discount=discount,
    )
