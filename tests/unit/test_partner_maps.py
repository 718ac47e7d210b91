"""A partner's own LOCAL map, published while the hub runs, classifies its next events."""

from __future__ import annotations

import pytest

from streams.categories import (
    PartnerMaps,
    decode_partner_map,
    encode_partner_map,
    load_reference,
    map_classification,
)

MEMBER = "surrey-police"


def test_a_published_map_takes_over_the_members_local_codes_only() -> None:
    calls: list[tuple[str, str, str | None]] = []

    def fallback(scheme: str, code: str, member: str | None) -> object:
        calls.append((scheme, code, member))
        return map_classification(scheme, code, member)

    maps = PartnerMaps(fallback)
    assert maps("LOCAL", "544076", MEMBER).category == "unclassified"
    ref = load_reference()
    raw = encode_partner_map(MEMBER, 1, {"544076": "professional-services"}, {"5420": "estates-fm"})
    assert maps.update(decode_partner_map(raw, ref))
    assert maps("LOCAL", "544076", MEMBER).category == "professional-services"
    assert maps("LOCAL", "542002", MEMBER).category == "estates-fm"  # by prefix
    assert maps("LOCAL", "999", MEMBER).category == "unclassified"
    calls.clear()
    assert maps("CPV", "35815100", MEMBER).category == "body-armour"  # other schemes: the fallback
    assert maps("LOCAL", "MG-FLEET", "kent-police").category == "fleet-vehicles"  # other members too
    assert [c[0] for c in calls] == ["CPV", "LOCAL"]


def test_only_a_higher_version_replaces_a_published_map() -> None:
    maps = PartnerMaps(map_classification)
    ref = load_reference()
    v2 = decode_partner_map(encode_partner_map(MEMBER, 2, {"544076": "estates-fm"}, {}), ref)
    v1 = decode_partner_map(encode_partner_map(MEMBER, 1, {"544076": "professional-services"}, {}), ref)
    assert maps.update(v2) and not maps.update(v1)  # a replayed older record changes nothing
    assert maps("LOCAL", "544076", MEMBER).category == "estates-fm"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (b"not json", "not a partner category map"),
        (b'{"member": "Surrey Police", "version": 1}', "not a partner category map"),
        (b'{"member": "surrey-police", "version": 1, "codes": {"1": "nope"}}', "unknown national category"),
    ],
)
def test_a_bad_record_is_refused_with_the_reason(value: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        decode_partner_map(value, load_reference())
