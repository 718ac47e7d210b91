"""Peppol BIS 3 ordering (UBL 2.1 Order, OrderChange, OrderCancellation) -> purchase-order events."""

from adapters.peppol.reader import read

__all__ = ["read"]
