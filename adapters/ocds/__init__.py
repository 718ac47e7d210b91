"""OCDS releases, release packages and record packages -> contract and supplier events."""

from adapters.ocds.reader import read

__all__ = ["read"]
