"""A member's CSV mapping: which headers mean what, and how its spend file is written.

Loaded from YAML (see ``adapters/csv/examples/``). Every option has one meaning and an
unknown key is an error, so a typo in a mapping fails loudly instead of being ignored.
"""

from __future__ import annotations

import textwrap
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from adapters.csv.parse import header_key

CsvField = Literal[
    "date",
    "supplier",
    "amount",
    "transaction",
    "supplier_id",
    "expense_type",
    "expense_code",
    "expense_area",
    "purpose",
    "entity",
    "irrecoverable_vat",
    "cpv",
    "credit_reference",
    "version",
]
REQUIRED_FIELDS: tuple[CsvField, ...] = ("date", "supplier", "amount")


class Classification(BaseModel):
    """Where a line's classification comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: CsvField = Field(default="expense_type", description="Field whose value is the LOCAL code.")
    cpv: CsvField | None = Field(
        default=None, description="Field holding CPV codes; used instead of LOCAL where filled."
    )


class Redaction(BaseModel):
    """How a supplier withheld by the publisher is recognised and carried."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    patterns: tuple[str, ...] = ("redacted", "personal data", "withheld")
    action: Literal["keep", "reject"] = "keep"


class LocalCategories(BaseModel):
    """The partner's own map of its LOCAL codes to national category ids, shipped with its mapping.

    The same rules as a hub-side map (streams/reference/local/<member>.yaml): ``codes`` match
    a whole code, ``prefixes`` the start of one (longest wins); case and surrounding spaces
    are ignored. ``bluelight categories publish`` sends it to the hub.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(default=1, ge=1, description="Bump on every change: the hub keeps the newest.")
    codes: dict[str, str] = Field(default_factory=dict, description="Whole LOCAL code -> category id.")
    prefixes: dict[str, str] = Field(default_factory=dict, description="Code prefix -> category id.")

    @model_validator(mode="after")
    def _known_categories(self) -> LocalCategories:
        from streams.categories import load_reference

        known = load_reference().categories
        for section, entries in (("codes", self.codes), ("prefixes", self.prefixes)):
            for code, category in entries.items():
                if category not in known:
                    raise ValueError(
                        f"{section}[{code!r}]: unknown national category {category!r}; "
                        f"known: {', '.join(known)} (`bluelight categories list`)"
                    )
        return self


class CsvConfig(BaseModel):
    """One member's mapping of its spend CSV onto purchase-order events."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_system: str = Field(description="The ERP or feed, e.g. 'sap-s4' or 'cabinet-office-spend'.")
    encoding: str = Field(
        default="auto", description="'auto' (UTF-8, BOM allowed, else Windows-1252) or a codec name."
    )
    delimiter: str = ","
    dates: Literal["dmy", "mdy"] = Field(
        default="dmy", description="Order of slashed dates; ISO is always accepted."
    )
    currency: str = "GBP"
    amount_basis: Literal["net", "gross"] = "net"
    vat_rate: Decimal | None = Field(
        default=None, description="Gross to net when there is no irrecoverable VAT column."
    )
    columns: dict[CsvField, list[str]] = Field(description="Field -> accepted header aliases.")
    id_scope: tuple[CsvField, ...] = Field(
        default=(), description="Fields whose values qualify the transaction number where it is not unique."
    )
    classification: Classification = Field(default_factory=Classification)
    description: tuple[CsvField, ...] = ("expense_type", "expense_area", "purpose")
    unit: str = Field(default="LS", description="UN/ECE Rec 20 unit of a spend line: LS (lump sum).")
    redaction: Redaction = Field(default_factory=Redaction)
    footer_patterns: tuple[str, ...] = ("total", "grand total", "sub total", "subtotal", "report total")
    one_off_supplier_ids: tuple[str, ...] = Field(
        default=(),
        description="Supplier ids the ERP reuses for one-off payees; the name then tells them apart.",
    )
    header_search_rows: int = 20
    categories: LocalCategories | None = Field(
        default=None, description="Your LOCAL code -> national category map (docs/categories.md)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> CsvConfig:
        missing = [f for f in REQUIRED_FIELDS if not self.columns.get(f)]
        if missing:
            raise ValueError(f"columns: no header aliases for required field(s) {', '.join(missing)}")
        used: set[str] = set(self.columns)
        for f in self.id_scope:  # description fields may be absent: a missing one adds nothing
            if f not in used:
                raise ValueError(f"id_scope: field {f!r} has no header aliases under columns")
        if self.classification.code not in used:
            raise ValueError(
                f"classification.code: field {self.classification.code!r} has no aliases under columns"
            )
        if self.classification.cpv and self.classification.cpv not in used:
            raise ValueError(
                f"classification.cpv: field {self.classification.cpv!r} has no aliases under columns"
            )
        if self.amount_basis == "gross" and self.vat_rate is None and "irrecoverable_vat" not in used:
            raise ValueError(
                "amount_basis gross needs vat_rate or an irrecoverable_vat column to reach net amounts"
            )
        keys: dict[str, str] = {}
        for f, aliases in self.columns.items():
            for alias in aliases:
                k = header_key(alias)
                if keys.setdefault(k, f) != f:
                    raise ValueError(f"columns: header {alias!r} is an alias of both {keys[k]} and {f}")
        return self

    def alias_keys(self) -> dict[str, CsvField]:
        """Normalised header -> field."""
        return {header_key(a): f for f, aliases in self.columns.items() for a in aliases}


class ConfigError(ValueError):
    """A mapping file that cannot be used, with the reason."""


def load_config(raw: dict[str, Any] | None, *, origin: str = "CSV mapping") -> CsvConfig:
    """Validate a mapping given as data (e.g. YAML already parsed)."""
    if raw is None:
        raise ConfigError(
            "the CSV adapter needs a mapping config (--config FILE; see adapters/csv/examples/)"
        )
    try:
        return CsvConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "\n".join(f"  - {_problem(err)}" for err in exc.errors(include_url=False))
        raise ConfigError(f"{origin}:\n{problems}") from exc


_SECTIONS: dict[str, type[BaseModel]] = {
    "classification": Classification,
    "redaction": Redaction,
    "categories": LocalCategories,
}
_SHAPE: dict[str, str] = {
    "columns": "columns:\n  amount: [Amount, \"Amount £\"]   # field: [the headers your file may use]",
    "id_scope": "id_scope: [supplier, date]",
    "description": "description: [expense_type, expense_area]",
    "footer_patterns": 'footer_patterns: ["total", "grand total"]',
    "one_off_supplier_ids": 'one_off_supplier_ids: ["15050001"]',
    "classification": "classification:\n  code: expense_type\n  cpv: cpv",
    "redaction": "redaction:\n  patterns: [redacted]\n  action: keep",
    "categories": 'categories:\n  version: 1\n  codes: {"542320": professional-services}',
}


def _problem(err: Any) -> str:
    """One pydantic error as a person fixing the YAML needs it: the key, the known keys, the shape."""
    loc = [str(part) for part in err["loc"] if part != "[key]"]
    where = ".".join(loc) or "(top)"
    top = loc[0] if loc else ""
    shape = f"\n    the right shape:\n{textwrap.indent(_SHAPE[top], ' ' * 6)}" if top in _SHAPE else ""
    if err["type"] == "extra_forbidden":
        model = _SECTIONS.get(top) if len(loc) > 1 else CsvConfig
        known = ", ".join(model.model_fields) if model else ""
        return f"unknown key {loc[-1]!r} at {where}; known keys: {known}{shape}"
    if top in ("columns", "id_scope", "description") and err["type"] == "literal_error":
        fields = ", ".join(typing.get_args(CsvField))
        return f"{where}: unknown field {err['input']!r}; known fields: {fields}{shape}"
    if err["type"] == "missing":
        return f"{where}: missing (required){shape}"
    if err["type"] == "value_error":  # our own checks: the message names the key already
        return str(err["msg"]).removeprefix("Value error, ") + shape
    return f"{where}: {err['msg']} (got {err.get('input')!r}){shape}"


def read_config_file(path: Path) -> dict[str, Any]:
    """The YAML of a mapping file, as data."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a YAML mapping at the top")
    return raw
