"""The events as typed Python objects, enforcing the rules Avro cannot express.

Each model mirrors the latest .avsc of its family (schemas/avro/<family>/v<N>.avsc; a unit test
proves they agree) and adds the contract's rules: line totals rounded half-up to the penny,
totals that add up, dates in order, identifiers in canonical form, aware UTC timestamps.

A broken rule raises a pydantic error of type ``"rule"`` (see :func:`rule_error`) so
schemas.validate can tell "the data is the wrong shape" (kind ``schema``) from "the data breaks
a rule" (kind ``validation``). Each message names the value and what was wrong; the field path
is added by schemas.validate.

Values are canonical once validated: money has exactly 2 decimal places, quantities and unit
prices 4, timestamps are UTC at millisecond precision (what timestamp-millis carries), UK
identifiers are normalised. So an event survives model -> Avro -> model and model -> JSON ->
model unchanged.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation
from enum import Enum, StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from schemas import identity, limits
from schemas.vocabulary import FAMILIES, Family, NamingError, check_member_id

RULE_ERROR = "rule"
PENNY = Decimal("0.01")
AVRO_PRECISION = 18  # the decimal precision of every money/quantity field in the .avsc files


def rule_error(message: str) -> PydanticCustomError:
    """A broken contract rule, told apart from shape errors by its type (``"rule"``)."""
    return PydanticCustomError(RULE_ERROR, "{reason}", {"reason": message})


def type_error(kind: str, message: str) -> PydanticCustomError:
    """The wrong type of value (a shape error, kind ``schema``), e.g. a number for a date."""
    return PydanticCustomError(kind, "{reason}", {"reason": message})


# --- bounds (schemas.limits): checked first, so later messages never quote a huge value -------


def _bounded(max_len: int, *, free_text: bool = False) -> Callable[[str], str]:
    """A validator refusing text longer than ``max_len`` or holding characters that are not text."""

    def check(value: str) -> str:
        if len(value) > max_len:
            raise rule_error(f"{len(value)} characters is longer than the {max_len} allowed")
        bad = limits.bad_character(value, free_text=free_text)
        if bad is not None:
            raise rule_error(f"{limits.shown(value, 40)} {bad}")
        return value

    return check


def _optional_bounded(max_len: int) -> Callable[[str | None], str | None]:
    check = _bounded(max_len)

    def optional(value: str | None) -> str | None:
        return None if value is None else check(value)

    return optional


def _number_input(value: Any) -> Any:
    """A decimal may come as text, an integer or a finite float; never a boolean or a huge literal."""
    if isinstance(value, bool):
        raise type_error("decimal_type", f"{value!r} is not a number")
    if isinstance(value, str) and len(value) > limits.MAX_NUMBER_TEXT:
        raise rule_error(f"a number of {len(value)} characters (at most {limits.MAX_NUMBER_TEXT})")
    if isinstance(value, int) and value.bit_length() > 200:
        raise rule_error(f"{limits.shown(value)} is too large")
    return value


# --- value types ------------------------------------------------------------------------------


def _fixed_point(places: int) -> Callable[[Decimal], Decimal]:
    """A validator giving a decimal exactly ``places`` places, refusing to round data away."""
    quantum = Decimal(1).scaleb(-places)
    limit = Decimal(10) ** (AVRO_PRECISION - places)
    exact = Context(prec=60, traps=[Inexact, InvalidOperation])

    def check(value: Decimal) -> Decimal:
        try:
            fixed = value.quantize(quantum, context=exact)
        except (Inexact, InvalidOperation):
            raise rule_error(f"{value} has more than {places} decimal places") from None
        if abs(fixed) >= limit:
            raise rule_error(
                f"{value} is too large: at most {AVRO_PRECISION - places} digits before the point"
            ) from None
        return fixed.copy_abs() if fixed.is_zero() else fixed

    return check


def _decimal_text(value: Decimal) -> str:
    return format(value, "f")


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise rule_error(f"{value} is negative; must be >= 0")
    return value


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise rule_error(f"{value} must be > 0")
    return value


_AsText = PlainSerializer(_decimal_text, return_type=str, when_used="json")
_AsNumber = BeforeValidator(_number_input)
Money = Annotated[Decimal, _AsNumber, AfterValidator(_fixed_point(2)), _AsText]
"""An amount in the event's currency: 2 places (Avro decimal(18, 2)); JSON "1234.50"."""
Quantity = Annotated[Decimal, _AsNumber, AfterValidator(_fixed_point(4)), AfterValidator(_positive), _AsText]
"""An order line quantity: 4 places (Avro decimal(18, 4)), > 0; JSON "2.5000"."""
UnitPrice = Annotated[
    Decimal, _AsNumber, AfterValidator(_fixed_point(4)), AfterValidator(_not_negative), _AsText
]
"""A price per unit: 4 places (Avro decimal(18, 4)), >= 0; JSON "12.5000"."""


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]{5,}(Z|z|[+-][0-9:]{2,5})?")


def _date_input(value: Any) -> Any:
    """A date is a date or "YYYY-MM-DD"; never a number (pydantic would read 0 as 1970-01-01)."""
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise type_error("date_type", f'{limits.shown(value)} is not a date; send "YYYY-MM-DD"')
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise type_error("date_type", f'{limits.shown(value)} is not a date; send "YYYY-MM-DD"')
    return value


def _date_window(value: date) -> date:
    outside = limits.date_outside(value)
    if outside is not None:
        raise rule_error(outside)
    return value


def _instant_input(value: Any) -> Any:
    """An instant is a datetime or ISO-8601 text; never a number (read as seconds since 1970)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) > 40 or not _ISO_INSTANT.fullmatch(value):
        raise type_error(
            "datetime_type",
            f'{limits.shown(value)} is not an ISO-8601 time; send e.g. "2026-03-01T09:30:00Z"',
        )
    return value


def _utc_millis(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise rule_error(f"{value.isoformat()} has no time zone; send UTC with a Z (or an explicit offset)")
    try:
        utc: datetime | None = value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00, which is before year 1 in UTC
        utc = None
    if utc is None or limits.instant_outside(utc) is not None:
        raise rule_error(
            f"{value.isoformat()} is outside the plausible window "
            f"{limits.EARLIEST.isoformat()} to {limits.LATEST.isoformat()} (UTC)"
        )
    return utc.replace(microsecond=utc.microsecond - utc.microsecond % 1000)


def _iso_z(value: datetime) -> str:
    # Always milliseconds, the wire precision, so JSON lines compare as text.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


Day = Annotated[date, BeforeValidator(_date_input), AfterValidator(_date_window)]
"""A calendar date within the plausible window (schemas.limits); JSON "2026-03-01"."""
OptionalDay = Annotated[
    date | None,
    BeforeValidator(lambda v: v if v is None else _date_input(v)),
    AfterValidator(lambda v: v if v is None else _date_window(v)),
]

Timestamp = Annotated[
    datetime,
    BeforeValidator(_instant_input),
    AfterValidator(_utc_millis),
    PlainSerializer(_iso_z, return_type=str, when_used="json"),
]
"""A timezone-aware instant, held in UTC at millisecond precision; JSON "2026-03-01T09:30:00.000Z"."""


def _event_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise rule_error(f"{value!r} is not a UUID") from None


def _member_id(value: str) -> str:
    try:
        return check_member_id(value)
    except NamingError as exc:
        raise rule_error(str(exc)) from None


def _not_blank(value: str) -> str:
    if not value.strip():
        raise rule_error("must not be blank")
    return value


def _currency(value: str) -> str:
    if not (len(value) == 3 and value.isascii() and value.isalpha() and value.isupper()):
        raise rule_error(f"{value!r} is not an ISO 4217 currency code (three capital letters, e.g. GBP)")
    return value


def _unit_code(value: str) -> str:
    if not (2 <= len(value) <= 3 and value.isascii() and value.isalnum() and value == value.upper()):
        raise rule_error(
            f"{value!r} is not a UN/ECE Rec 20 unit code (2-3 capital letters or digits, e.g. EA, H87, KGM)"
        )
    return value


def _version(value: int) -> int:
    if not 0 < value <= limits.MAX_ENTITY_VERSION:
        raise rule_error(
            f"{limits.shown(value)} is not a version: must be > 0 and at most {limits.MAX_ENTITY_VERSION}"
        )
    return value


def _has_name(value: str) -> str:
    if not identity.normalise_name(value):
        raise rule_error(f"{value!r} has no letters or digits")
    return value


def _blank_is_none(value: Any) -> Any:
    """An empty identifier (a blank spreadsheet cell) means there is none."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _by(normalise: Callable[[str], str]) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalise(value)
        except ValueError as exc:
            raise rule_error(str(exc)) from None

    return check


_Strict = Field(strict=True)  # no ``false`` or ``[]`` for a string, no number for text
_Blank = BeforeValidator(_blank_is_none)


EventId = Annotated[str, _Strict, AfterValidator(_bounded(64)), AfterValidator(_event_id)]
MemberId = Annotated[str, _Strict, AfterValidator(_bounded(64)), AfterValidator(_member_id)]
Text = Annotated[str, _Strict, AfterValidator(_bounded(limits.MAX_ID)), AfterValidator(_not_blank)]
SourceSystem = Annotated[
    str, _Strict, AfterValidator(_bounded(limits.MAX_SOURCE_SYSTEM)), AfterValidator(_not_blank)
]
Title = Annotated[
    str,
    Field(strict=True),
    AfterValidator(_bounded(limits.MAX_NAME, free_text=True)),
    AfterValidator(_not_blank),
]
Description = Annotated[str, _Strict, AfterValidator(_bounded(limits.MAX_DESCRIPTION, free_text=True))]
Currency = Annotated[str, _Strict, AfterValidator(_bounded(8)), AfterValidator(_currency)]
UnitCode = Annotated[str, _Strict, AfterValidator(_bounded(8)), AfterValidator(_unit_code)]
SupplierName = Annotated[str, _Strict, AfterValidator(_bounded(limits.MAX_NAME)), AfterValidator(_has_name)]
CompaniesHouseNumber = Annotated[
    str | None,
    _Strict,
    _Blank,
    AfterValidator(_optional_bounded(limits.MAX_CODE)),
    AfterValidator(_by(identity.normalise_companies_house)),
]
VatNumber = Annotated[
    str | None,
    _Strict,
    _Blank,
    AfterValidator(_optional_bounded(limits.MAX_CODE)),
    AfterValidator(_by(identity.clean_vat)),
]
Duns = Annotated[
    str | None,
    _Strict,
    _Blank,
    AfterValidator(_optional_bounded(limits.MAX_CODE)),
    AfterValidator(_by(identity.normalise_duns)),
]
OptionalText = Annotated[str | None, _Strict, _Blank, AfterValidator(_optional_bounded(limits.MAX_ID))]
OptionalCode = Annotated[str | None, _Strict, _Blank, AfterValidator(_optional_bounded(limits.MAX_CODE))]
Postcode = Annotated[str | None, _Strict, _Blank, AfterValidator(_optional_bounded(limits.MAX_POSTCODE))]
EntityVersion = Annotated[int, Field(strict=True), AfterValidator(_version)]


# --- enums (symbols exactly as in the .avsc files) ----------------------------------------------


class OrderStatus(StrEnum):
    """Where a purchase order is in its life."""

    ISSUED = "ISSUED"
    AMENDED = "AMENDED"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


class ContractStatus(StrEnum):
    """Where a contract is in its life."""

    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    TERMINATED = "TERMINATED"
    CANCELLED = "CANCELLED"


class SupplierStatus(StrEnum):
    """Whether a partner still trades with a supplier."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class ClassificationScheme(StrEnum):
    """The coding scheme of a classification; LOCAL codes go through the partner's own map."""

    CPV = "CPV"
    UNSPSC = "UNSPSC"
    ECLASS = "ECLASS"
    LOCAL = "LOCAL"


# --- records --------------------------------------------------------------------------------------


class _Record(BaseModel):
    """Immutable, and unknown fields are an error rather than silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Classification(_Record):
    """A coded category of what is bought."""

    scheme: ClassificationScheme
    code: Text


class SupplierRef(_Record):
    """A supplier as an order or contract names it."""

    member_supplier_id: Text
    name: SupplierName
    companies_house_number: CompaniesHouseNumber = None
    vat_number: VatNumber = None
    duns: Duns = None
    ppon: OptionalCode = None


class OrderLine(_Record):
    """One line of a purchase order."""

    line_id: Text
    description: Description
    quantity: Quantity
    unit: UnitCode
    unit_price: UnitPrice
    line_total: Money
    classification: Classification
    item_id: OptionalText = None

    @field_validator("line_total")
    @classmethod
    def _line_total_is_rounded_product(cls, line_total: Decimal, info: ValidationInfo) -> Decimal:
        quantity, unit_price = info.data.get("quantity"), info.data.get("unit_price")
        if quantity is None or unit_price is None:
            return line_total  # already reported as their own errors
        product = quantity * unit_price
        expected = product.quantize(PENNY, rounding=ROUND_HALF_UP)
        if line_total != expected:
            raise rule_error(
                f"{line_total} is not quantity {quantity} × unit_price {unit_price} = "
                f"{format(product.normalize(), 'f')}, "
                f"which rounds half-up to {expected}"
            )
        return line_total


class EventEnvelope(_Record):
    """The fields every event carries (events.md, "Common envelope")."""

    family: ClassVar[Family]

    event_id: EventId
    member_id: MemberId
    source_system: SourceSystem
    entity_id: Text
    entity_version: EntityVersion
    occurred_at: Timestamp
    published_at: Timestamp


class PurchaseOrder(EventEnvelope):
    """A purchase order, full current state (schemas/avro/purchase-order, latest version)."""

    family: ClassVar[Family] = "purchase-order"

    status: OrderStatus
    order_date: Day
    currency: Currency
    supplier: SupplierRef
    contract_ref: OptionalText = None
    lines: Annotated[list[OrderLine], Field(max_length=limits.MAX_LINES)]
    total_net: Money
    buyer_reference: OptionalText = None  # v2

    @field_validator("lines")
    @classmethod
    def _lines_present_and_unique(cls, lines: list[OrderLine]) -> list[OrderLine]:
        if not lines:
            raise rule_error("an order needs at least one line")
        first_at: dict[str, int] = {}
        for index, line in enumerate(lines):
            if line.line_id in first_at:
                raise rule_error(
                    f"lines[{index}].line_id {line.line_id!r} repeats lines[{first_at[line.line_id]}]; "
                    "line ids must be unique in an order"
                )
            first_at[line.line_id] = index
        return lines

    @field_validator("total_net")
    @classmethod
    def _total_is_sum_of_lines(cls, total_net: Decimal, info: ValidationInfo) -> Decimal:
        lines: list[OrderLine] | None = info.data.get("lines")
        if lines is None:
            return total_net  # the lines were invalid and already reported
        expected = sum((line.line_total for line in lines), Decimal("0.00"))
        if total_net != expected:
            raise rule_error(f"{total_net} is not the sum of the {len(lines)} lines' line_total, {expected}")
        return total_net


class Contract(EventEnvelope):
    """A contract, full current state (schemas/avro/contract, latest version)."""

    family: ClassVar[Family] = "contract"

    status: ContractStatus
    title: Title
    supplier: SupplierRef
    classification: Classification
    start_date: Day
    end_date: Day
    max_extent_date: OptionalDay = None
    value: Annotated[Money, AfterValidator(_not_negative)]
    currency: Currency
    framework_ref: OptionalText = None
    ocid: OptionalText = None

    @field_validator("end_date")
    @classmethod
    def _ends_after_start(cls, end_date: date, info: ValidationInfo) -> date:
        start_date = info.data.get("start_date")
        if start_date is not None and end_date < start_date:
            raise rule_error(f"{end_date} is before start_date {start_date}")
        return end_date

    @field_validator("max_extent_date")
    @classmethod
    def _extent_after_end(cls, max_extent_date: date | None, info: ValidationInfo) -> date | None:
        end_date = info.data.get("end_date")
        if max_extent_date is not None and end_date is not None and max_extent_date < end_date:
            raise rule_error(f"{max_extent_date} is before end_date {end_date}")
        return max_extent_date


class Supplier(EventEnvelope):
    """A partner's supplier master record (schemas/avro/supplier, latest version)."""

    family: ClassVar[Family] = "supplier"

    status: SupplierStatus
    legal_name: SupplierName
    companies_house_number: CompaniesHouseNumber = None
    vat_number: VatNumber = None
    duns: Duns = None
    ppon: OptionalCode = None
    postcode: Postcode = None
    sme: Annotated[bool | None, Field(strict=True)] = None
    vcse: Annotated[bool | None, Field(strict=True)] = None


Event = PurchaseOrder | Contract | Supplier

MODEL_BY_FAMILY: dict[Family, type[Event]] = {
    "purchase-order": PurchaseOrder,
    "contract": Contract,
    "supplier": Supplier,
}
assert tuple(MODEL_BY_FAMILY) == FAMILIES, "a new family needs a model here"


def family_of(event: Event) -> Family:
    """The family an event belongs to."""
    return event.family


# --- Avro dicts -----------------------------------------------------------------------------------


def to_avro(event: Event) -> dict[str, Any]:
    """The event as the Avro record of its family's latest schema.

    Decimals, dates and aware datetimes are handed to fastavro as they are (they already have
    the schema's scale and millisecond precision, so its logical-type writers are exact);
    enums become their symbols.
    """
    return _symbols(event.model_dump(mode="python"))


def from_avro(family: Family, record: dict[str, Any]) -> Event:
    """The model of a decoded Avro record (raises pydantic.ValidationError when a rule fails)."""
    return MODEL_BY_FAMILY[family].model_validate(record)


# Values _symbols passes through untouched; checked by exact type first, as most values are these
# (an event has hundreds of leaves, and isinstance against Enum for each cost a fifth of to_avro).
_LEAVES = frozenset({str, int, float, bool, bytes, Decimal, date, datetime, type(None)})


def _symbols(value: Any) -> Any:
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict:
        return {k: v if type(v) in _LEAVES else _symbols(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _LEAVES else _symbols(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _symbols(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_symbols(v) for v in value]
    return value
