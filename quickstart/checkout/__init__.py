"""A small shop's checkout: price a cart, apply a coupon, print a receipt."""
from checkout.receipt import Line, PriceList, Receipt, UnknownItem, build_receipt, load_prices

__all__ = ["Line", "PriceList", "Receipt", "UnknownItem", "build_receipt", "load_prices"]
