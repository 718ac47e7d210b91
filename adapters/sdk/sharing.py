"""A partner's sharing policy: fields that never leave the partner, removed before sending.

Not every field can be withheld. The hub exists to total spend, so amounts and the fields
the views key on (classification, dates, status, supplier name) always travel. What can be
withheld, and how it is represented so the event still passes the schema:

- optional fields (supplier identifiers, ``contract_ref``, ``buyer_reference``, ``item_id``,
  ``framework_ref``, ``ocid``, ``max_extent_date``, supplier ``postcode``/``sme``/``vcse``)
  become ``null``;
- required free text (``lines[].description``, contract ``title``,
  ``supplier.member_supplier_id``) becomes ``"[withheld]"``;
- ``lines[].unit_price`` or ``lines[].quantity`` restate the line as one lump sum:
  quantity 1, unit ``LS`` (UN/ECE Rec 20 "lump sum"), unit price = line total. The line
  total and the order total are unchanged, and the price benchmark keeps such lines in
  their own ``|LS`` bucket instead of comparing them with real unit prices.

A policy naming any other field is refused when it is loaded, with the list above.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from topologies.naming import FAMILIES, Family

WITHHELD_TEXT = "[withheld]"
LUMP_SUM_UNIT = "LS"

Treatment = Literal["null", "text", "lump_sum"]

WITHHOLDABLE: dict[Family, dict[str, Treatment]] = {
    "purchase-order": {
        "supplier.member_supplier_id": "text",
        "supplier.companies_house_number": "null",
        "supplier.vat_number": "null",
        "supplier.duns": "null",
        "supplier.ppon": "null",
        "contract_ref": "null",
        "buyer_reference": "null",
        "lines[].description": "text",
        "lines[].item_id": "null",
        "lines[].unit_price": "lump_sum",
        "lines[].quantity": "lump_sum",
    },
    "contract": {
        "title": "text",
        "supplier.member_supplier_id": "text",
        "supplier.companies_house_number": "null",
        "supplier.vat_number": "null",
        "supplier.duns": "null",
        "supplier.ppon": "null",
        "framework_ref": "null",
        "ocid": "null",
        "max_extent_date": "null",
    },
    "supplier": {
        "companies_house_number": "null",
        "vat_number": "null",
        "duns": "null",
        "ppon": "null",
        "postcode": "null",
        "sme": "null",
        "vcse": "null",
    },
}


class PolicyError(ValueError):
    """A sharing policy that cannot be applied as written."""


@dataclass(frozen=True)
class SharingPolicy:
    """Per family, the field paths withheld from every event the partner sends."""

    withhold: Mapping[Family, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: object, *, origin: str = "sharing policy") -> SharingPolicy:
        """Build from the YAML shape ``{withhold: {<family>: [path, ...]}}``, checking every path."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict) or set(raw) - {"withhold", "member", "description"}:
            raise PolicyError(
                f"{origin}: expected a mapping with a 'withhold' key ({{withhold: {{family: [path]}}}})"
            )
        withhold = raw.get("withhold") or {}
        if not isinstance(withhold, dict):
            raise PolicyError(f"{origin}: 'withhold' must map a family to a list of field paths")
        out: dict[Family, tuple[str, ...]] = {}
        for family, paths in withhold.items():
            if family not in FAMILIES:
                raise PolicyError(
                    f"{origin}: unknown family {family!r} (expected one of {', '.join(FAMILIES)})"
                )
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                raise PolicyError(f"{origin}: withhold.{family} must be a list of field paths")
            allowed = WITHHOLDABLE[family]
            for path in paths:
                if path not in allowed:
                    raise PolicyError(
                        f"{origin}: {family} field {path!r} cannot be withheld; withholdable fields are "
                        f"{', '.join(sorted(allowed))} (amounts, dates, status, classification and the "
                        "supplier name always travel: the national views are built from them)"
                    )
            out[family] = tuple(paths)
        return cls(withhold=out)

    @classmethod
    def load(cls, path: Path) -> SharingPolicy:
        """Read a policy YAML file."""
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise PolicyError(f"{path}: cannot read the sharing policy: {exc}") from exc
        return cls.from_mapping(raw, origin=str(path))

    def is_empty(self) -> bool:
        """True when nothing is withheld."""
        return not any(self.withhold.values())

    def describe(self) -> dict[str, list[str]]:
        """The policy as plain data (for fingerprints and logs)."""
        return {fam: list(paths) for fam, paths in sorted(self.withhold.items())}

    def apply(self, family: Family, event: dict[str, Any]) -> dict[str, Any]:
        """A copy of the JSON-form ``event`` with every withheld field replaced."""
        paths = self.withhold.get(family, ())
        if not paths:
            return event
        out = copy.deepcopy(event)
        for path in paths:
            _withhold(out, path, WITHHOLDABLE[family][path])
        return out


def _withhold(event: dict[str, Any], path: str, treatment: Treatment) -> None:
    if path.startswith("lines[]."):
        name = path.removeprefix("lines[].")
        for line in event.get("lines") or []:
            if isinstance(line, dict):
                _replace(line, name, treatment)
        return
    target = event
    *parents, name = path.split(".")
    for parent in parents:
        nxt = target.get(parent)
        if not isinstance(nxt, dict):
            return
        target = nxt
    _replace(target, name, treatment)


def _replace(obj: dict[str, Any], name: str, treatment: Treatment) -> None:
    if treatment == "null":
        obj[name] = None
    elif treatment == "text":
        obj[name] = WITHHELD_TEXT
    else:  # lump_sum: the line keeps its total and loses what would reveal the price
        obj["quantity"] = "1"
        obj["unit"] = LUMP_SUM_UNIT
        obj["unit_price"] = obj.get("line_total")
