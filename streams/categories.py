"""Where a classification code lands in the national taxonomy, and which rule put it there.

Partners classify what they buy in CPV, UNSPSC, ECLASS or their own LOCAL codes; the views
speak only national category ids. The mapping is versioned reference data in
streams/reference/ (taxonomy.yaml, cpv.yaml, unspsc.yaml, eclass.yaml, local/<member>.yaml;
see docs/categories.md), matched by longest prefix so a narrow rule overrides its division.
A code that maps nowhere lands in ``unclassified`` - never an error: a gap in the reference
data must not dead-letter a partner's order.

Everything here is a pure function of the reference data, which is parsed on first use and
cached (never at import time).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Final, cast

import yaml

from topologies.naming import NamingError, check_member_id

REFERENCE_DIR: Final = Path(__file__).parent / "reference"
UNCLASSIFIED: Final = "unclassified"
# Schemes with a national prefix map (LOCAL goes through the member's own map).
PREFIX_SCHEMES: Final = ("CPV", "UNSPSC", "ECLASS")
SCHEMES: Final = (*PREFIX_SCHEMES, "LOCAL")
_SCHEME_FILES: Final = {"CPV": "cpv.yaml", "UNSPSC": "unspsc.yaml", "ECLASS": "eclass.yaml"}

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DIGITS = re.compile(r"^\d+$")
# The length range of a valid prefix key and of a valid code, per scheme.
_KEY_DIGITS: Final = {"CPV": (2, 8), "UNSPSC": (2, 8), "ECLASS": (2, 8)}


class ReferenceDataError(ValueError):
    """The reference data files are inconsistent; the message names the file and entry."""


class InvalidCode(ValueError):
    """A classification code that is not a well-formed code of its scheme."""


class UnknownScheme(ValueError):
    """A classification scheme the hub does not know."""


@dataclass(frozen=True)
class Category:
    """One national category: a slug id, a display name and what belongs in it."""

    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Rule:
    """One mapping rule: a code prefix (or a whole LOCAL code) and the category it leads to."""

    key: str
    category: str
    label: str


@dataclass(frozen=True)
class LocalMap:
    """A member's map of its own LOCAL codes: whole codes first, then longest prefix."""

    member: str
    version: int
    codes: Mapping[str, Rule]
    prefixes: Mapping[str, Rule]


@dataclass(frozen=True)
class Reference:
    """The parsed reference data: the taxonomy and every map, at one national version."""

    version: int
    directory: Path
    categories: Mapping[str, Category]  # in taxonomy order
    schemes: Mapping[str, Mapping[str, Rule]]  # scheme -> prefix -> rule
    local: Mapping[str, LocalMap]  # member id -> its map


@dataclass(frozen=True)
class CategoryMatch:
    """Where a classification landed, and the rule that put it there (for humans and logs)."""

    category: str
    name: str
    rule: str

    @property
    def classified(self) -> bool:
        """False when no rule matched: the line counts in ``unclassified``."""
        return self.category != UNCLASSIFIED


# --- codes -------------------------------------------------------------------------------------


def cpv_code8(code: str) -> str:
    """The 8-digit CPV code without its check digit, or InvalidCode saying why not.

    Accepted forms: "33735100", "33735100-7" (a "-d" check-digit suffix) and "337351007"
    (9 digits, the last being the check digit). The check digit is not verified: the spec
    ignores it, and partners' systems disagree about it. Anything else - 7 digits with a lost
    leading zero, a spreadsheet's "33735100.0" - is an error rather than a guess.
    """
    text = code.strip()
    if not text:
        raise InvalidCode("CPV code is blank")
    head, dash, check = text.partition("-")
    if dash:
        if not (len(check) == 1 and check.isdigit()):
            raise InvalidCode(
                f"CPV code {code!r}: after '-' expected a single check digit (e.g. 33735100-7)"
            )
        text = head
    if not (text.isascii() and _DIGITS.match(text)):
        raise InvalidCode(f"CPV code {code!r} is not digits: expected 8 digits, e.g. 33735100 or 33735100-7")
    if len(text) == 9 and not dash:
        return text[:8]
    if len(text) != 8:
        raise InvalidCode(
            f"CPV code {code!r} has {len(text)} digits: expected 8 (e.g. 33735100), "
            "optionally with its check digit (33735100-7 or 337351007)"
        )
    return text


def unspsc_code(code: str) -> str:
    """A UNSPSC code as its digits (2 to 10: segment .. commodity, or with a business function)."""
    text = code.strip()
    if not (text.isascii() and _DIGITS.match(text) and 2 <= len(text) <= 10):
        raise InvalidCode(f"UNSPSC code {code!r}: expected 2 to 10 digits, e.g. 43211503")
    return text


def eclass_code(code: str) -> str:
    """An ECLASS class code as its digits ("19-01-01-01" and "19010101" are one code)."""
    text = code.strip().replace("-", "")
    if not (text.isascii() and _DIGITS.match(text) and 2 <= len(text) <= 8):
        raise InvalidCode(f"ECLASS code {code!r}: expected up to 8 digits, e.g. 19010101 or 19-01-01-01")
    return text


def local_code(code: str) -> str:
    """A LOCAL code as maps compare it: surrounding spaces dropped, upper case."""
    text = code.strip().upper()
    if not text:
        raise InvalidCode("LOCAL code is blank")
    return text


_NORMALISERS: Final = {"CPV": cpv_code8, "UNSPSC": unspsc_code, "ECLASS": eclass_code, "LOCAL": local_code}


def scheme_name(scheme: object) -> str:
    """The canonical scheme name ("cpv", a ClassificationScheme member...), or UnknownScheme."""
    name = str(getattr(scheme, "value", scheme)).strip().upper()
    if name not in SCHEMES:
        raise UnknownScheme(f"unknown classification scheme {scheme!r}: expected one of {', '.join(SCHEMES)}")
    return name


def normalise_code(scheme: object, code: str) -> str:
    """A code in the form maps and price-benchmark keys use (CPV: 8 digits, no check digit).

    Raises UnknownScheme or InvalidCode.
    """
    return _NORMALISERS[scheme_name(scheme)](code)


# --- mapping -----------------------------------------------------------------------------------


def map_classification(
    scheme: object, code: str, member: str | None = None, *, reference: Reference | None = None
) -> CategoryMatch:
    """The national category of one classification, with the rule that decided it.

    ``member`` is needed for LOCAL codes (each member's codes mean something only in its own
    map) and ignored otherwise. Never raises for a bad or unknown code - that lands in
    ``unclassified`` with the reason in ``rule`` - only for an unknown scheme.
    """
    name = scheme_name(scheme)
    ref = reference if reference is not None else load_reference()
    if name == "LOCAL":
        return _map_local(ref, code, member)
    try:
        digits = normalise_code(name, code)
    except InvalidCode as exc:
        return _unclassified(ref, f"{exc} → unclassified")
    rule = _longest_prefix(ref.schemes[name], digits)
    if rule is None:
        why = f"no {name} rule matches {digits} → unclassified (reference v{ref.version})"
        return _unclassified(ref, why)
    return CategoryMatch(
        category=rule.category,
        name=ref.categories[rule.category].name,
        rule=f"{name} prefix {rule.key} ({rule.label}) → {rule.category} (reference v{ref.version})",
    )


def _map_local(ref: Reference, code: str, member: str | None) -> CategoryMatch:
    if member is None:
        return _unclassified(ref, f"LOCAL code {code!r} without the member whose code it is → unclassified")
    local = ref.local.get(member)
    if local is None:
        return _unclassified(ref, f"no LOCAL map for member {member} → unclassified")
    try:
        key = local_code(code)
    except InvalidCode as exc:
        return _unclassified(ref, f"{exc} → unclassified")
    where = f"({member} map v{local.version})"
    rule = local.codes.get(key)
    if rule is not None:
        return CategoryMatch(
            category=rule.category,
            name=ref.categories[rule.category].name,
            rule=f"LOCAL {member}:{rule.key} ({rule.label}) → {rule.category} {where}",
        )
    rule = _longest_prefix(local.prefixes, key)
    if rule is not None:
        return CategoryMatch(
            category=rule.category,
            name=ref.categories[rule.category].name,
            rule=f"LOCAL {member} prefix {rule.key} ({rule.label}) → {rule.category} {where}",
        )
    why = f"no rule in {member} map v{local.version} matches LOCAL code {key} → unclassified"
    return _unclassified(ref, why)


def local_map_from(
    member: str, version: int, codes: Mapping[str, str], prefixes: Mapping[str, str], reference: Reference
) -> LocalMap:
    """A member's LOCAL map given as plain code -> category id; ValueError for an unknown category.

    This is the partner's own map, shipped with its mapping or published to the reference topic.
    """
    sections: list[dict[str, Rule]] = []
    for section, entries in (("codes", codes), ("prefixes", prefixes)):
        rules: dict[str, Rule] = {}
        for code, category in entries.items():
            if category not in reference.categories:
                raise ValueError(f"{member} map {section}[{code!r}]: unknown national category {category!r}")
            key = local_code(code)
            rules[key] = Rule(key=key, category=category, label=f"{member}'s own map")
        sections.append(rules)
    return LocalMap(member=member, version=version, codes=sections[0], prefixes=sections[1])


def with_local_map(reference: Reference, local: LocalMap) -> Reference:
    """The reference data with ``local`` as its member's map (replacing the hub's file, if any)."""
    return replace(reference, local={**reference.local, local.member: local})


def _longest_prefix(rules: Mapping[str, Rule], code: str) -> Rule | None:
    for end in range(len(code), 0, -1):
        rule = rules.get(code[:end])
        if rule is not None:
            return rule
    return None


def _unclassified(ref: Reference, why: str) -> CategoryMatch:
    return CategoryMatch(category=UNCLASSIFIED, name=ref.categories[UNCLASSIFIED].name, rule=why)


def list_categories(reference: Reference | None = None) -> list[Category]:
    """Every national category, in taxonomy order (``unclassified`` last)."""
    ref = reference if reference is not None else load_reference()
    return list(ref.categories.values())


def category_name(category_id: str, reference: Reference | None = None) -> str:
    """The display name of a category id (KeyError naming it when unknown)."""
    ref = reference if reference is not None else load_reference()
    try:
        return ref.categories[category_id].name
    except KeyError:
        raise KeyError(f"unknown national category {category_id!r} (reference v{ref.version})") from None


# --- loading -----------------------------------------------------------------------------------


def load_reference(path: Path | str | None = None) -> Reference:
    """The reference data in ``path`` (default: the package's streams/reference), parsed once.

    Raises ReferenceDataError naming the file and entry for anything inconsistent: a rule
    to an unknown category, a malformed or unquoted prefix, a duplicate key, files at
    different versions, a version without a changelog note.
    """
    if path is None:
        return _load_default()  # the per-line path: no filesystem call once loaded
    return _load(Path(path).resolve())


def clear_reference_cache() -> None:
    """Forget parsed reference data, so the next load re-reads the files."""
    _load.cache_clear()
    _load_default.cache_clear()


@cache
def _load_default() -> Reference:
    return _load(REFERENCE_DIR.resolve())


@cache
def _load(directory: Path) -> Reference:
    taxonomy_file = directory / "taxonomy.yaml"
    taxonomy = _read(taxonomy_file)
    version = _version(taxonomy_file, taxonomy)
    categories = _categories(taxonomy_file, taxonomy)
    schemes: dict[str, Mapping[str, Rule]] = {}
    for scheme, file_name in _SCHEME_FILES.items():
        file = directory / file_name
        data = _read(file)
        file_version = _version(file, data)
        if file_version != version:
            raise ReferenceDataError(
                f"{file}: version {file_version} but taxonomy.yaml is version {version}; "
                "the national files change together, so bump them all"
            )
        schemes[scheme] = _prefix_rules(file, data.get("rules"), categories, scheme)
    local: dict[str, LocalMap] = {}
    local_dir = directory / "local"
    if local_dir.is_dir():
        for file in sorted(local_dir.glob("*.yaml")):
            local_map = _local_map(file, categories)
            local[local_map.member] = local_map
    return Reference(
        version=version, directory=directory, categories=categories, schemes=schemes, local=local
    )


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise ReferenceDataError(
                f"{key_node.start_mark.name}:{line}: key {key!r} appears twice (first on line {seen[key]})"
            )
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def _read(file: Path) -> dict[str, Any]:
    try:
        with file.open(encoding="utf-8") as stream:
            data = yaml.load(stream, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise ReferenceDataError(f"{file}: missing reference data file") from None
    except yaml.YAMLError as exc:
        raise ReferenceDataError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{file}: expected a mapping at the top level")
    return data


def _version(file: Path, data: Mapping[str, Any]) -> int:
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ReferenceDataError(f"{file}: `version` must be a whole number >= 1, got {version!r}")
    notes = data.get("changelog")
    if not isinstance(notes, list):
        raise ReferenceDataError(f"{file}: `changelog` must be a list of {{version, date, note}} entries")
    for index, entry in enumerate(notes):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("version"), int)
            and isinstance(entry.get("date"), date)
            and isinstance(entry.get("note"), str)
            and entry["note"].strip()
        ):
            raise ReferenceDataError(
                f"{file}: changelog[{index}] needs `version` (number), `date` (YYYY-MM-DD) and a `note`"
            )
    if not any(entry["version"] == version for entry in notes):
        raise ReferenceDataError(f"{file}: version {version} has no changelog entry saying what changed")
    return version


def _categories(file: Path, data: Mapping[str, Any]) -> dict[str, Category]:
    entries = data.get("categories")
    if not isinstance(entries, list) or not entries:
        raise ReferenceDataError(f"{file}: `categories` must be a non-empty list")
    categories: dict[str, Category] = {}
    for index, entry in enumerate(entries):
        where = f"{file}: categories[{index}]"
        if not isinstance(entry, dict):
            raise ReferenceDataError(f"{where}: expected {{id, name, description}}")
        cid, name, description = entry.get("id"), entry.get("name"), entry.get("description")
        if not (isinstance(cid, str) and _SLUG.match(cid)):
            raise ReferenceDataError(f"{where}: id {cid!r} is not a slug (lower-case letters, digits, -)")
        if cid in categories:
            raise ReferenceDataError(f"{where}: id {cid!r} is listed twice")
        for field, value in (("name", name), ("description", description)):
            if not (isinstance(value, str) and value.strip()):
                raise ReferenceDataError(f"{where} ({cid}): `{field}` must be non-empty text")
        categories[cid] = Category(id=cid, name=str(name).strip(), description=str(description).strip())
    if UNCLASSIFIED not in categories:
        raise ReferenceDataError(f"{file}: the taxonomy must include {UNCLASSIFIED!r}")
    # unclassified last, wherever the file lists it, so listings end with the catch-all
    categories[UNCLASSIFIED] = categories.pop(UNCLASSIFIED)
    return categories


def _rule(file: Path, section: str, key: object, value: object, categories: Mapping[str, Category]) -> Rule:
    where = f"{file}: {section}[{key!r}]"
    if not isinstance(key, str):
        raise ReferenceDataError(
            f"{where}: keys must be quoted strings (an unquoted 03 reads as the number 3), e.g. \"03\""
        )
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise ReferenceDataError(f"{where}: expected [category-id, \"label\"], got {value!r}")
    category, label = value
    if category not in categories:
        raise ReferenceDataError(f"{where}: unknown category {category!r}; add it to taxonomy.yaml first")
    return Rule(key=key, category=category, label=label.strip())


def _prefix_rules(
    file: Path, entries: object, categories: Mapping[str, Category], scheme: str
) -> dict[str, Rule]:
    if not isinstance(entries, dict) or not entries:
        raise ReferenceDataError(f"{file}: `rules` must map prefixes to [category, label]")
    low, high = _KEY_DIGITS[scheme]
    rules: dict[str, Rule] = {}
    for key, value in entries.items():
        rule = _rule(file, "rules", key, value, categories)
        if not (_DIGITS.match(rule.key) and low <= len(rule.key) <= high):
            raise ReferenceDataError(
                f"{file}: rules[{key!r}]: a {scheme} prefix is {low} to {high} digits, e.g. \"3511\""
            )
        rules[rule.key] = rule
    return rules


def _local_map(file: Path, categories: Mapping[str, Category]) -> LocalMap:
    data = _read(file)
    version = _version(file, data)
    member = data.get("member")
    if member != file.stem:
        raise ReferenceDataError(f"{file}: `member` is {member!r} but the file is named for {file.stem!r}")
    try:
        check_member_id(file.stem)
    except NamingError as exc:
        raise ReferenceDataError(f"{file}: {exc}") from None
    sections: dict[str, dict[str, Rule]] = {}
    for section in ("codes", "prefixes"):
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise ReferenceDataError(f"{file}: `{section}` must be a mapping of code -> [category, label]")
        rules: dict[str, Rule] = {}
        for key, value in entries.items():
            rule = _rule(file, section, key, value, categories)
            try:
                folded = local_code(rule.key)
            except InvalidCode:
                raise ReferenceDataError(f"{file}: {section}: a code must not be blank") from None
            if folded in rules:
                raise ReferenceDataError(
                    f"{file}: {section}[{key!r}] is the same code as {rules[folded].key!r} "
                    "(LOCAL codes ignore case and surrounding spaces)"
                )
            rules[folded] = Rule(key=folded, category=rule.category, label=rule.label)
        sections[section] = rules
    if not sections["codes"] and not sections["prefixes"]:
        raise ReferenceDataError(f"{file}: a local map needs `codes` or `prefixes`")
    return LocalMap(member=file.stem, version=version, codes=sections["codes"], prefixes=sections["prefixes"])


# --- partners' own maps, published while the hub runs ----------------------------------------------


def encode_partner_map(
    member: str, version: int, codes: Mapping[str, str], prefixes: Mapping[str, str]
) -> bytes:
    """The record value of a partner's map on the reference topic (key: the member id)."""
    body = {"member": member, "version": version, "codes": dict(codes), "prefixes": dict(prefixes)}
    return json.dumps(body, sort_keys=True).encode()


def decode_partner_map(value: bytes, reference: Reference) -> LocalMap:
    """A map read back from the reference topic; ValueError saying what is wrong with it."""
    try:
        body = json.loads(value)
        member, version = check_member_id(str(body["member"])), int(body["version"])
        codes, prefixes = dict(body.get("codes") or {}), dict(body.get("prefixes") or {})
    except (ValueError, KeyError, TypeError, NamingError) as exc:
        raise ValueError(f"not a partner category map ({type(exc).__name__}: {exc})") from None
    return local_map_from(member, version, codes, prefixes, reference)


class PartnerMaps:
    """LOCAL codes of partners that published their own map; everything else to ``fallback``.

    Ingest feeds it the reference topic's records (:meth:`update`) and categorises through it,
    so a map published while the worker runs classifies the next event without a restart. The
    partner owns its codes, so its published map replaces the hub-side file of that member; a
    later publication replaces it only with a higher version (a replayed old one changes nothing).
    """

    def __init__(self, fallback: Callable[[str, str, str | None], Any]) -> None:
        self._fallback = fallback
        self._reference = load_reference()
        self._maps: dict[str, LocalMap] = {}
        self._cache: dict[tuple[str, str], CategoryMatch] = {}

    def update(self, local: LocalMap) -> bool:
        """Put ``local`` in force if it is newer; whether it was."""
        current = self._maps.get(local.member)
        if current is not None and current.version >= local.version:
            return False
        self._maps[local.member] = local
        self._reference = with_local_map(self._reference, local)
        self._cache.clear()
        return True

    @property
    def reference(self) -> Reference:
        """The reference data with every published map in force."""
        return self._reference

    def __call__(self, scheme: str, code: str, member: str | None) -> CategoryMatch:
        """Where a classification lands now."""
        if member is None or member not in self._maps or scheme_name(scheme) != "LOCAL":
            return cast(CategoryMatch, self._fallback(scheme, code, member))
        key = (member, code)
        if key not in self._cache:
            self._cache[key] = map_classification("LOCAL", code, member, reference=self._reference)
        return self._cache[key]
