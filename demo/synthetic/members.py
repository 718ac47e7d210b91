"""Who publishes: 43 police forces, eleven fire and rescue services and the national team.

Each partner has a slug id, a name, a sector and the ERP it publishes from; a few also
classify with UNSPSC or ECLASS, or always send one line the reference data cannot place.
Every id starts with ``demo-`` (``demo-kent-police``), so a synthetic partner can never be
taken for the real force whose name it borrows, on a topic, in a view or in a log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Sector = Literal["police", "fire", "national"]


@dataclass(frozen=True)
class Member:
    """A partner: its ``demo-`` id, its name, its sector and the ERP it publishes from."""

    id: str
    name: str
    sector: Sector
    source_system: str

    @property
    def area(self) -> str:
        """The place in the name ("Avon and Somerset"), for naming local suppliers."""
        name = self.name.replace("Dorset & Wiltshire", "Wiltshire")
        for suffix in (" Fire and Rescue Service", " Fire Service", " Fire Brigade", " Police Service",
                       " Constabulary", " Police", " national procurement team"):
            name = name.removesuffix(suffix)
        return name.removeprefix("County ").removeprefix("City of ")

    @property
    def slug(self) -> str:
        """The id without ``demo-``: it seeds the partner's random draws, as before the prefix."""
        return self.id.removeprefix(DEMO_PREFIX)


DEMO_PREFIX = "demo-"  # every synthetic id starts with it; no real member's may (demo.prepare)


def demo_id(slug: str) -> str:
    """``kent-police`` -> ``demo-kent-police``."""
    return DEMO_PREFIX + slug


_SYSTEMS = ("sap-s4", "oracle-fusion", "unit4", "dynamics-365")
_POLICE = (
    ("avon-and-somerset-police", "Avon and Somerset Constabulary"),
    ("bedfordshire-police", "Bedfordshire Police"),
    ("cambridgeshire-police", "Cambridgeshire Constabulary"),
    ("cheshire-police", "Cheshire Constabulary"),
    ("city-of-london-police", "City of London Police"),
    ("cleveland-police", "Cleveland Police"),
    ("cumbria-police", "Cumbria Constabulary"),
    ("derbyshire-police", "Derbyshire Constabulary"),
    ("devon-and-cornwall-police", "Devon and Cornwall Police"),
    ("dorset-police", "Dorset Police"),
    ("durham-police", "Durham Constabulary"),
    ("dyfed-powys-police", "Dyfed-Powys Police"),
    ("essex-police", "Essex Police"),
    ("gloucestershire-police", "Gloucestershire Constabulary"),
    ("greater-manchester-police", "Greater Manchester Police"),
    ("gwent-police", "Gwent Police"),
    ("hampshire-and-isle-of-wight-police", "Hampshire and Isle of Wight Constabulary"),
    ("hertfordshire-police", "Hertfordshire Constabulary"),
    ("humberside-police", "Humberside Police"),
    ("kent-police", "Kent Police"),
    ("lancashire-police", "Lancashire Constabulary"),
    ("leicestershire-police", "Leicestershire Police"),
    ("lincolnshire-police", "Lincolnshire Police"),
    ("merseyside-police", "Merseyside Police"),
    ("metropolitan-police", "Metropolitan Police Service"),
    ("norfolk-police", "Norfolk Constabulary"),
    ("north-wales-police", "North Wales Police"),
    ("north-yorkshire-police", "North Yorkshire Police"),
    ("northamptonshire-police", "Northamptonshire Police"),
    ("northumbria-police", "Northumbria Police"),
    ("nottinghamshire-police", "Nottinghamshire Police"),
    ("south-wales-police", "South Wales Police"),
    ("south-yorkshire-police", "South Yorkshire Police"),
    ("staffordshire-police", "Staffordshire Police"),
    ("suffolk-police", "Suffolk Constabulary"),
    ("surrey-police", "Surrey Police"),
    ("sussex-police", "Sussex Police"),
    ("thames-valley-police", "Thames Valley Police"),
    ("warwickshire-police", "Warwickshire Police"),
    ("west-mercia-police", "West Mercia Police"),
    ("west-midlands-police", "West Midlands Police"),
    ("west-yorkshire-police", "West Yorkshire Police"),
    ("wiltshire-police", "Wiltshire Police"),
)
_FIRE = (
    ("london-fire", "London Fire Brigade"),
    ("greater-manchester-fire", "Greater Manchester Fire and Rescue Service"),
    ("west-midlands-fire", "West Midlands Fire Service"),
    ("west-yorkshire-fire", "West Yorkshire Fire and Rescue Service"),
    ("merseyside-fire", "Merseyside Fire and Rescue Service"),
    ("kent-fire", "Kent Fire and Rescue Service"),
    ("essex-fire", "Essex County Fire and Rescue Service"),
    ("devon-and-somerset-fire", "Devon and Somerset Fire and Rescue Service"),
    ("hampshire-and-isle-of-wight-fire", "Hampshire and Isle of Wight Fire and Rescue Service"),
    ("south-wales-fire", "South Wales Fire and Rescue Service"),
    ("wiltshire-fire", "Dorset & Wiltshire Fire and Rescue Service"),
)
# Partners whose ERP is fixed by the examples elsewhere (Kent's SAP material groups, the
# London Fire Brigade's Oracle categories: streams/reference/local/).
_FIXED_SYSTEM = {demo_id("kent-police"): "sap-s4", demo_id("london-fire"): "oracle-fusion"}

MEMBERS: tuple[Member, ...] = (
    *(
        Member(demo_id(m), n, "police", _FIXED_SYSTEM.get(demo_id(m), _SYSTEMS[i % 4]))
        for i, (m, n) in enumerate(_POLICE)
    ),
    *(
        Member(demo_id(m), n, "fire", _FIXED_SYSTEM.get(demo_id(m), _SYSTEMS[i % 3 + 1]))
        for i, (m, n) in enumerate(_FIRE)
    ),
    Member(
        demo_id("bluelight-national"), "BlueLight national procurement team", "national", "oracle-fusion"
    ),
)
MEMBER_BY_ID: dict[str, Member] = {m.id: m for m in MEMBERS}

# Who classifies with what, besides CPV.
UNSPSC_MEMBERS = frozenset(
    demo_id(m)
    for m in ("city-of-london-police", "west-midlands-fire", "essex-fire", "devon-and-somerset-fire")
)
ECLASS_MEMBERS = frozenset({demo_id("south-wales-fire")})
# Members that always send one line no map places: it lands in `unclassified`.
UNMAPPED = {
    demo_id("kent-police"): "membership",
    demo_id("london-fire"): "membership",
    demo_id("south-wales-fire"): "test-rig",
}
CHECK_DIGIT_CPV = {"35815100": "35815100-1", "45233162": "45233162-2"}  # real check digits
