"""Realistic synthetic partner activity, for the demo and for benchmarks.

A seeded, pure generator: :func:`generate` returns the events the 43 territorial police
forces of England and Wales, eleven fire and rescue services and the national team would
publish - purchase orders, contracts and supplier records in the canonical JSON form of
events.md (the form ``schemas.models`` dumps) - each labelled with what the hub should do
with it: accept it (``good``), count it as a ``duplicate`` (a resend, or a version older
than one already applied), or reject it (``bad:<kind>``). Nothing here touches Kafka.

The data exercises what the views must get right: national suppliers shared across
partners under different local ids and name spellings; CPV codes with and without check
digits, UNSPSC, ECLASS and LOCAL codes (some deliberately unmapped); contracts ending in
every pipeline bucket, including past their end but still ACTIVE; amendments,
cancellations, exact resends, versions delivered out of order, and a few bad events of
every rejection kind.

Suppliers are fictional. Their Companies House numbers are in the 19xxxxxx block (SC9xxxxx
for the Scottish one), which Companies House has not reached, so none names a real
company; VAT numbers are random with a valid HMRC check pair. CPV check digits appear only
where the real one is known (the hub ignores them anyway).
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from adapters.sdk.envelope import event_id_for
from schemas import serde
from topologies.naming import Family

Sector = Literal["police", "fire", "national"]
Json = dict[str, Any]

PENNY = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")


# --- who --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A partner: its slug id, its name, its sector and the ERP it publishes from."""

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
_FIXED_SYSTEM = {"kent-police": "sap-s4", "london-fire": "oracle-fusion"}

MEMBERS: tuple[Member, ...] = (
    *(Member(m, n, "police", _FIXED_SYSTEM.get(m, _SYSTEMS[i % 4])) for i, (m, n) in enumerate(_POLICE)),
    *(Member(m, n, "fire", _FIXED_SYSTEM.get(m, _SYSTEMS[i % 3 + 1])) for i, (m, n) in enumerate(_FIRE)),
    Member("bluelight-national", "BlueLight national procurement team", "national", "oracle-fusion"),
)
MEMBER_BY_ID: dict[str, Member] = {m.id: m for m in MEMBERS}

# Who classifies with what, besides CPV.
_UNSPSC_MEMBERS = frozenset(
    {"city-of-london-police", "west-midlands-fire", "essex-fire", "devon-and-somerset-fire"}
)
_ECLASS_MEMBERS = frozenset({"south-wales-fire"})
# Members that always send one line no map places: it lands in `unclassified`.
_UNMAPPED = {"kent-police": "membership", "london-fire": "membership", "south-wales-fire": "test-rig"}
_CHECK_DIGIT_CPV = {"35815100": "35815100-1", "45233162": "45233162-2"}  # real check digits


# --- what -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """Something partners buy: how it is classified, sold and priced."""

    key: str
    description: str
    cpv: str
    unit: str
    price: tuple[str, str]
    quantity: tuple[str, str]
    sectors: str  # letters: p(olice) f(ire) n(ational)
    title: str  # of a contract for it
    unspsc: str | None = None
    eclass: str | None = None
    local: tuple[tuple[str, str], ...] = ()  # (member, LOCAL code)
    goods: bool = True

    @property
    def price_places(self) -> int:
        """Decimal places of the unit price (fuel and energy are priced to 4)."""
        return max(len(self.price[0].partition(".")[2]), 2)

    @property
    def quantity_places(self) -> int:
        """Decimal places of the quantity (litres and kilograms are measured, not counted)."""
        return len(self.quantity[0].partition(".")[2])


def _i(key: str, description: str, cpv: str, unit: str, price: str, quantity: str, sectors: str,
       title: str, **extra: Any) -> Item:
    lo, hi = price.split("-")
    qlo, qhi = quantity.split("-")
    return Item(key, description, cpv, unit, (lo, hi), (qlo, qhi), sectors, title, **extra)


K, L = "kent-police", "london-fire"
ITEMS: tuple[Item, ...] = (
    _i("patrol-car", "Marked patrol car, hybrid estate, response spec", "34114200", "EA", "28000-36000",
       "1-6", "p",
       "Supply of marked police vehicles", unspsc="25101503", local=((K, "MG-FLEET"),)),
    _i("van", "Light van 3.5t, with racking", "34136000", "EA", "24000-32000", "1-4", "pfn",
       "Supply of light commercial vehicles", local=((L, "FLEET.VEH.VAN"),)),
    _i("motorcycle", "Police motorcycle, fully equipped", "34410000", "EA", "16000-21000", "1-3", "p",
       "Supply of police motorcycles"),
    _i("tyres", "Tyres 225/45 R17, pursuit rated", "34350000", "EA", "85-140", "4-40", "pfn",
       "Tyre supply and fitting", local=((L, "FLEET.MAINT.TYRES"), (K, "MG-FLEET"))),
    _i("servicing", "Vehicle service and MOT", "50112000", "EA", "180-420", "1-25", "pfn",
       "Fleet servicing and repair", goods=False, local=((L, "FLEET.MAINT.SERVICE"), (K, "MG-FLEET"))),
    _i("drone", "Unmanned aircraft system with thermal camera", "34711200", "EA", "6500-14000", "1-3", "pf",
       "Supply of drones"),
    _i("rescue-pump", "Rescue pump fire appliance, Euro 6 chassis", "34144213", "EA", "285000-340000",
       "1-2", "f",
       "Supply of fire appliances", local=((L, "FLEET.APPLIANCE.PUMP"),)),
    _i("aerial", "Aerial ladder platform, 32 m", "34144210", "EA", "780000-950000", "1-1", "f",
       "Supply of aerial appliances", local=((L, "FLEET.APPLIANCE.ALP"),)),
    _i("hose", "Delivery hose 45 mm x 23 m, coupled", "35111000", "EA", "95-160", "10-80", "f",
       "Fire hose supply", unspsc="46191600", local=((L, "OPS.HOSE.DELIVERY"),)),
    _i("ba-set", "Breathing apparatus set, positive pressure", "35111000", "EA", "2400-3600", "2-20", "f",
       "Breathing apparatus supply and maintenance", local=((L, "OPS.BA.SET"),)),
    _i("extinguisher", "Fire extinguisher, 6 kg dry powder", "35111300", "EA", "38-65", "5-60", "pfn",
       "Fire extinguisher supply and servicing", unspsc="46191601", local=((L, "OPS.EXT.6KG"),)),
    _i("rescue-tools", "Hydraulic rescue cutter and spreader kit", "35112000", "EA", "18000-26000", "1-3",
       "f",
       "Rescue equipment", local=((L, "OPS.RESCUE.HYDRAULIC"),)),
    _i("fire-tunic", "Structural firefighting tunic, EN 469", "35113400", "EA", "420-610", "10-120", "f",
       "Firefighter structural PPE", local=((L, "OPS.PPE.TUNIC"),)),
    _i("fire-uniform", "Station wear polo shirt", "35811100", "EA", "14-22", "50-400", "f",
       "Fire service uniform"),
    _i("goggles", "Protective goggles, anti-mist", "33735100", "EA", "4.50-9.80", "50-800", "pfn",
       "Supply of protective eyewear"),
    _i("gloves", "Nitrile disposable gloves, box of 100", "18424000", "BX", "5.20-8.90", "20-600", "pfn",
       "Supply of disposable gloves", unspsc="46181504"),
    _i("safety-boots", "Safety boots, composite toe cap", "18830000", "PR", "62-118", "10-200", "pfn",
       "Supply of safety footwear"),
    _i("hi-vis", "High-visibility jacket, class 3", "35113400", "EA", "38-72", "20-300", "pfn",
       "Supply of high-visibility clothing"),
    _i("helmet", "Public order helmet", "18444100", "EA", "180-260", "10-120", "p",
       "Supply of public order protective equipment"),
    _i("body-armour", "Covert body armour, KR1/SP1", "35815100", "EA", "390-540", "20-300", "p",
       "Supply of body armour", local=((K, "MG-ARMOUR"),)),
    _i("armour-carrier", "Overt body armour carrier with ballistic panels", "35815100", "EA", "480-620",
       "20-200",
       "p", "Supply of body armour", local=((K, "MG-ARMOUR"),)),
    _i("trousers", "Patrol trousers, black", "35811200", "EA", "24-39", "50-600", "p",
       "Supply of police uniform", local=((K, "MG-UNIFORM"),)),
    _i("base-layer", "Wicking base layer T-shirt", "35811200", "EA", "9-15", "100-1200", "p",
       "Supply of police uniform", unspsc="53102700", local=((K, "MG-UNIFORM"),)),
    _i("patrol-boots", "Patrol boots, leather", "18810000", "PR", "48-85", "20-300", "p",
       "Supply of police footwear"),
    _i("radio", "Handheld TETRA radio terminal", "32230000", "EA", "850-1400", "5-120", "pf",
       "Radio terminals and accessories", unspsc="43191510", local=((K, "MG-RADIO"), (L,
       "COMMS.RADIO.TETRA"))),
    _i("smartphone", "Smartphone, ruggedised, 5G", "32250000", "EA", "380-720", "20-600", "pfn",
       "Mobile devices", unspsc="43191501"),
    _i("airtime", "Mobile voice and data airtime, monthly", "64212000", "MON", "8.50-19.00", "100-3000",
       "pfn",
       "Mobile airtime services", goods=False),
    _i("laptop", "Laptop, 14 in, 16 GB", "30213100", "EA", "720-1150", "5-400", "pfn",
       "End-user computing devices", unspsc="43211503", eclass="19-03-01-01", local=((L, "ICT.HW.LAPTOP"),)),
    _i("desktop", "Desktop PC, small form factor", "30213300", "EA", "520-780", "5-200", "pfn",
       "End-user computing devices", unspsc="43211507"),
    _i("office-licences", "Office productivity licences, annual, per user", "48000000", "EA", "65-190",
       "50-2000", "pfn", "Productivity software licences", unspsc="43231500", local=((L, "ICT.SW.OFFICE"),),
       goods=False),
    _i("rms", "Records management system subscription, annual", "48000000", "EA", "45000-160000", "1-1", "p",
       "Records management system", goods=False),
    _i("service-desk", "Managed IT service desk, monthly", "72250000", "MON", "12000-38000", "1-3", "pfn",
       "Managed IT services", unspsc="81111800", local=((L, "ICT.SVC.DESK"),), goods=False),
    _i("dna", "DNA profiling, per sample", "71900000", "EA", "180-420", "5-120", "p",
       "Forensic science services", local=((K, "MG-FORENSIC"),), goods=False),
    _i("toxicology", "Toxicology analysis, per case", "71900000", "EA", "320-780", "2-40", "p",
       "Forensic science services", local=((K, "MG-FORENSIC"),), goods=False),
    _i("digital-forensics", "Digital forensic examination, mobile device", "71900000", "EA", "350-900",
       "2-60",
       "p", "Digital forensics services", local=((K, "MG-DIGIFOR"),), goods=False),
    _i("fingerprint-kit", "Fingerprint powder and lifting kit", "33950000", "EA", "28-65", "5-100", "p",
       "Forensic consumables"),
    _i("escort", "Detainee escort and transport service, monthly", "75231200", "MON", "22000-48000", "1-1",
       "p", "Detainee escort services", goods=False),
    _i("custody-health", "Custody healthcare professionals, monthly", "85100000", "MON", "30000-85000", "1-1",
       "p", "Custody healthcare services", local=((K, "MG-CUSTHEALTH"),), goods=False),
    _i("custody-meals", "Detainee meals, microwaveable, case of 24", "15000000", "CS", "38-58", "5-80", "p",
       "Custody catering supplies", local=((K, "MG-CUSTODY"),)),
    _i("ppm", "Planned preventative maintenance, HVAC", "50700000", "EA", "1800-9500", "1-4", "pfn",
       "Planned maintenance", local=((L, "PROP.PPM.HVAC"), (K, "MG-ESTATES")), goods=False),
    _i("fm", "Total facilities management service, monthly", "79993100", "MON", "38000-120000", "1-1", "pfn",
       "Total facilities management", goods=False),
    _i("cleaning", "Office and station cleaning, monthly", "90911200", "MON", "4200-18000", "1-1", "pfn",
       "Cleaning services", unspsc="76111500", goods=False),
    _i("washroom", "Washroom consumables, hand towels, case", "33760000", "CS", "18-32", "10-200", "pfn",
       "Janitorial supplies"),
    _i("waste", "General waste collection, per lift", "90511000", "EA", "14-32", "20-400", "pfn",
       "Waste collection", goods=False),
    _i("refurb", "Custody suite refurbishment works, stage payment", "45210000", "EA", "250000-1200000",
       "1-1",
       "p", "Custody suite refurbishment", goods=False),
    _i("roof-works", "Station roof replacement works, stage payment", "45233162", "EA", "90000-420000", "1-1",
       "f", "Station refurbishment works", local=((L, "PROP.WORKS.ROOF"),), goods=False),
    _i("architect", "Architectural design services", "71200000", "EA", "8000-45000", "1-1", "pfn",
       "Architectural services", goods=False),
    _i("diesel", "Diesel (road), bunkered, litres", "09134200", "LTR", "1.0800-1.4900", "1500.00-12000.00",
       "pfn", "Supply of bulk fuel", unspsc="15101505", local=((K, "MG-FUEL"), (L, "FLEET.FUELCARD"))),
    _i("petrol", "Unleaded petrol via fuel card, litres", "09132100", "LTR", "1.2500-1.5500",
       "300.00-4000.00",
       "pfn", "Fuel cards", local=((K, "MG-FUEL"), (L, "FLEET.FUELCARD"))),
    _i("electricity", "Electricity supply, kWh", "09310000", "KWH", "0.1800-0.3100", "20000-400000", "pfn",
       "Supply of electricity"),
    _i("gas", "Natural gas supply, kWh", "09123000", "KWH", "0.0450-0.0900", "50000-600000", "pfn",
       "Supply of natural gas"),
    _i("consultancy", "Management consultancy, day rate", "79410000", "DAY", "750-1450", "5-60", "pfn",
       "Management consultancy", goods=False),
    _i("interpreting", "Interpreting services, per hour", "79540000", "HUR", "28-55", "20-600", "p",
       "Interpreting and translation services", local=((K, "MG-INTERP"),), goods=False),
    _i("audit", "Internal audit services", "79212000", "EA", "15000-60000", "1-1", "pfn",
       "Internal audit", goods=False),
    _i("counsel", "Counsel fees, misconduct hearing", "79110000", "EA", "2500-18000", "1-3", "pfn",
       "Legal services", local=((L, "CORP.LEGAL.COUNSEL"),), goods=False),
    _i("first-aid-kit", "First aid kit, vehicle", "33140000", "EA", "12-35", "20-300", "pfn",
       "First aid supplies"),
    _i("defibrillator", "Automated external defibrillator", "33182100", "EA", "850-1400", "2-30", "pfn",
       "Defibrillators"),
    _i("occupational-health", "Occupational health service, monthly", "85147000", "MON", "6000-22000", "1-1",
       "pfn", "Occupational health services", goods=False),
    _i("handcuffs", "Rigid handcuffs", "35200000", "EA", "32-58", "20-300", "p", "Police equipment"),
    _i("incapacitant", "Incapacitant spray canister", "35200000", "EA", "9-18", "50-500", "p",
       "Police equipment"),
    _i("ced", "Conducted energy device with cartridges", "35300000", "EA", "1100-1600", "5-80", "p",
       "Less-lethal weapons"),
    _i("ammunition", "9 mm training ammunition, per 1000 rounds", "35330000", "EA", "260-420", "5-120", "p",
       "Ammunition"),
    _i("cctv", "CCTV camera upgrade, per camera", "32323500", "EA", "450-1200", "4-60", "pfn",
       "CCTV installation and maintenance"),
    _i("guarding", "Security guarding, per hour", "79713000", "HUR", "17-28", "200-4000", "pfn",
       "Manned guarding", goods=False),
    _i("mutual-aid", "Mutual aid officers, per officer-day", "75241000", "DAY", "380-520", "20-400", "p",
       "Mutual aid", goods=False),
    _i("driver-training", "Response driver training course, per delegate", "80510000", "EA", "1400-2600",
       "2-24", "pfn", "Driver training", local=((L, "TRAIN.DRIVER"),), goods=False),
    _i("first-aid-training", "First aid at work course, per delegate", "80500000", "EA", "180-320", "5-60",
       "pfn", "First aid training", unspsc="86101700", goods=False),
    _i("hotel", "Hotel accommodation, per night", "55110000", "DAY", "85-165", "1-40", "pfn",
       "Travel and accommodation", unspsc="90111500", goods=False),
    _i("rail", "Rail travel, standard return", "60210000", "EA", "45-180", "1-40", "pfn",
       "Travel and accommodation", goods=False),
    _i("catering", "Canteen catering service, monthly", "55520000", "MON", "9000-26000", "1-1", "pfn",
       "Catering services", goods=False),
    _i("motor-insurance", "Motor fleet insurance premium", "66510000", "EA", "120000-480000", "1-1", "pfn",
       "Insurance", local=((L, "CORP.INS.MOTOR"),), goods=False),
    _i("banking", "Banking services, annual fee", "66110000", "EA", "8000-24000", "1-1", "pfn",
       "Banking services", goods=False),
    _i("agency-staff", "Agency staff, control room, per hour", "79620000", "HUR", "21-36", "100-2000", "pfn",
       "Temporary staff", goods=False),
    _i("dog-food", "Working dog food, 15 kg sack", "15700000", "EA", "38-62", "10-120", "p",
       "Police dog and horse supplies", local=((K, "MG-DOGS"),)),
    _i("veterinary", "Veterinary care, police dogs and horses", "85200000", "EA", "600-4800", "1-4", "p",
       "Veterinary services", local=((K, "MG-DOGS"),), goods=False),
    _i("kennelling", "Kennelling, per dog-night", "98380000", "DAY", "18-32", "10-200", "p",
       "Kennelling", local=((K, "MG-DOGS"),), goods=False),
    _i("paper", "A4 copier paper, box of 5 reams", "30197630", "BX", "17-26", "10-400", "pfn",
       "Office supplies", eclass="24-32-01-01"),
    _i("leaflets", "Printing of crime prevention leaflets", "79810000", "EA", "0.0600-0.1400", "2000-50000",
       "pfn", "Print services", goods=False),
    _i("courier", "Same-day courier", "64120000", "EA", "22-75", "5-120", "pfn", "Courier services",
       goods=False),
    _i("chair", "Task chair, 24-hour use", "39130000", "EA", "280-620", "5-120", "pfn", "Office furniture"),
    _i("reagents", "Laboratory reagents", "33696000", "EA", "45-320", "5-60", "p", "Laboratory consumables",
       eclass="32-01-01-01"),
    _i("calibration", "Breath test device calibration", "50410000", "EA", "85-160", "10-120", "p",
       "Calibration services", goods=False),
    _i("membership", "Professional body membership subscription", "98100000", "EA", "150-900", "1-20", "pfn",
       "Memberships", local=((K, "MG-MISC"), (L, "CORP.SUBS.MEMBERSHIP")), goods=False),
    _i("test-rig", "Hydraulic test rig", "42000000", "EA", "4000-9000", "1-2", "f", "Workshop equipment",
       eclass="36-01-01-01"),
)
ITEM_BY_KEY: dict[str, Item] = {item.key: item for item in ITEMS}
# How often an item is ordered, relative to the usual 3: fuel and kit weekly, fire engines rarely.
_OFTEN = {
    **dict.fromkeys(("diesel", "petrol", "servicing", "tyres", "goggles", "gloves", "base-layer", "trousers",
                     "laptop", "paper", "washroom", "dna", "interpreting", "agency-staff", "hotel", "rail",
                     "dog-food", "first-aid-kit", "airtime", "hose"), 6),
    **dict.fromkeys(("patrol-car", "counsel", "consultancy", "occupational-health", "mutual-aid", "fm",
                     "escort", "custody-health", "catering", "cleaning", "service-desk", "ba-set"), 2),
    **dict.fromkeys(("rescue-pump", "aerial", "refurb", "roof-works", "architect", "motor-insurance",
                     "banking", "audit", "rms", "motorcycle", "drone", "test-rig", "membership",
                     "rescue-tools"), 1),
}


@dataclass(frozen=True)
class SupplierSpec:
    """A fictional supplier: the identifier it is known by nationally, and what it sells."""

    name: str
    identity: Literal["ch", "sc", "vat", "duns", "name"]
    items: tuple[str, ...]
    postcode: str
    sme: bool | None = None
    vcse: bool | None = None


def _s(name: str, identity: Literal["ch", "sc", "vat", "duns", "name"], items: str, postcode: str,
       sme: bool | None = None, vcse: bool | None = None) -> SupplierSpec:
    return SupplierSpec(name, identity, tuple(items.split()), postcode, sme, vcse)


NATIONAL_SUPPLIERS: tuple[SupplierSpec, ...] = (
    _s("Kestrel Fleet Services Ltd", "ch", "patrol-car van motorcycle servicing", "CV3 4QZ", False),
    _s("Harrowby Tyre & Auto Ltd", "ch", "tyres servicing", "NG31 7XT", True),
    _s("Skylark Unmanned Systems Ltd", "ch", "drone", "BS16 1QY", True),
    _s("Wyvern Fire Engineering Ltd", "ch", "rescue-pump aerial rescue-tools test-rig", "GL20 8NB", False),
    _s("Blackthorn Fire & Rescue Supplies Ltd", "ch", "hose ba-set extinguisher", "WF10 5PL", True),
    _s("Ardenvale Protective Systems Ltd", "ch", "body-armour armour-carrier helmet", "B46 1AJ", False),
    _s("Holloway & Finch Uniforms Ltd", "ch", "trousers base-layer patrol-boots fire-uniform", "LE4 9HA",
       False),
    _s("Sentinel Workwear Ltd", "ch", "goggles gloves safety-boots hi-vis fire-tunic", "M17 1PG", False),
    _s("Tamar Radio Communications Ltd", "ch", "radio smartphone airtime", "PL6 8BX", False),
    _s("Ravensworth Digital Ltd", "ch", "laptop desktop smartphone", "RG2 6GP", False),
    _s("Coldharbour Software Ltd", "ch", "office-licences rms", "SE5 9NF", True),
    _s("Northmoor Managed Services Ltd", "ch", "service-desk", "LS11 5AE", False),
    _s("Greyfriars Forensic Science Ltd", "ch", "dna toxicology digital-forensics", "OX14 4RY", False),
    _s("Lindqvist Forensic Supplies Ltd", "duns", "fingerprint-kit reagents", "CB4 0WS", False),
    _s("Pennine Custody Health Ltd", "ch", "custody-health occupational-health", "HD2 1GQ", True),
    _s("Castlegate Escort Services Ltd", "ch", "escort", "DN4 5NU", False),
    _s("Saltmarsh Facilities Management Ltd", "ch", "fm ppm cleaning", "CM2 5PX", False),
    _s("Brightwell Cleaning Services Ltd", "vat", "cleaning washroom", "NE8 3DF", True),
    _s("Ironbridge Construction Group plc", "ch", "refurb roof-works", "TF8 7DQ", False),
    _s("Tessellate Architects LLP", "ch", "architect", "BN1 4GH", True),
    _s("Copperbeech Fuels Ltd", "ch", "diesel petrol", "DE74 2SA", False),
    _s("Hollinsworth Energy Supply Ltd", "ch", "electricity gas", "SK1 3XE", False),
    _s("Stonebridge Consulting LLP", "ch", "consultancy audit", "EC2A 4NE", False),
    _s("Polyglot Language Services CIC", "ch", "interpreting", "L3 5TQ", True, True),
    _s("Fenwick Marlow Legal LLP", "ch", "counsel", "WC2A 3LJ", False),
    _s("Larchfield Medical Supplies Ltd", "ch", "first-aid-kit defibrillator", "WA5 7ZB", True),
    _s("Ridgeway Tactical Ltd", "ch", "handcuffs incapacitant ced ammunition", "SN4 0QA", False),
    _s("Aldergate Security Ltd", "ch", "guarding cctv", "E14 5AB", False),
    _s("Larkspur Training Academy Ltd", "ch", "driver-training first-aid-training", "NN4 7PA", True),
    _s("Beacon Travel Management Ltd", "ch", "hotel rail", "MK9 1LA", False),
    _s("Oakhurst Catering Ltd", "ch", "catering custody-meals", "GU21 6HT", True),
    _s("Thistledown Insurance Brokers Ltd", "sc", "motor-insurance", "EH3 8EX", False),
    _s("Carrick & Dunmore Bank plc", "ch", "banking", "EC3V 3LA", False),
    _s("Kingsmead Recruitment Ltd", "vat", "agency-staff", "SO15 2NP", True),
    _s("Fernbrook Veterinary Group Ltd", "ch", "veterinary kennelling dog-food", "YO26 6RW", True),
    _s("Quillon Print & Post Ltd", "ch", "paper leaflets courier", "NR6 6NB", True),
    _s("Ashgrove Office Furniture Ltd", "ch", "chair", "HP12 3TD", True),
    _s("Westbury Calibration Services Ltd", "ch", "calibration", "BA13 4JN", True),
    _s("Institute of Emergency Services Procurement", "name", "membership", "SW1P 3BU", None, True),
    _s("Hartwell Waste Services Ltd", "ch", "waste", "ST4 4EU", True),
    _s("Shires Mutual Aid Consortium", "name", "mutual-aid", "NN1 1DE", None, None),
)
# Local firms each partner also uses ("{area}" becomes the partner's area; no postcode kept).
_LOCAL_SUPPLIERS = (
    _s("{area} Vehicle Recovery & Repairs Ltd", "vat", "servicing tyres", "", True),
    _s("{area} Building Maintenance Ltd", "name", "ppm cleaning", "", True),
    _s("{area} Hotel & Conference Centre", "name", "hotel catering", ""),
)
# A supplier from abroad, invoicing in euros: a v1 view rejects it as `unsupported`.
_EURO_SUPPLIER = SupplierSpec("Rheinland Feuerwehrtechnik GmbH", "name", ("hose", "ba-set"), "50667")


def _digits(text: str, count: int) -> str:
    """A stable string of digits from ``text`` (the same supplier gets the same numbers)."""
    number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    return str(number % 10**count).zfill(count)


def companies_house_number(spec: SupplierSpec) -> str | None:
    """The fictional Companies House number: 19xxxxxx, or SC9xxxxx for a Scottish company."""
    if spec.identity == "ch":
        return "19" + _digits(spec.name, 6)
    if spec.identity == "sc":
        return "SC9" + _digits(spec.name, 5)
    return None


def vat_number(spec: SupplierSpec) -> str:
    """A UK VAT number with a valid HMRC mod-97 check pair (random digits, not a real trader's)."""
    body = "2" + _digits(spec.name + "/vat", 6)
    weighted = sum(int(d) * w for d, w in zip(body, range(8, 1, -1), strict=True))
    return f"GB{body}{(-weighted) % 97:02d}"


def duns_number(spec: SupplierSpec) -> str:
    """A 9-digit DUNS-shaped number."""
    return "21" + _digits(spec.name + "/duns", 7)


# --- the generated events ---------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticEvent:
    """One event to publish on ``member``'s ``family`` topic, and what the hub should make of it.

    ``expected`` is ``good`` (a new highest version), ``duplicate`` (a resend, or a version not
    higher than one delivered before it in this list) or ``bad:<kind>`` with the rejection
    kind. ``raw``, when set, is what to put on the wire instead of encoding ``event``: bytes
    no decoder can read (``event`` then shows what they were meant to carry), or a record of
    another family than the topic's (``event`` is that record). :func:`wire_bytes` picks.
    """

    member: str
    family: Family
    event: Json
    expected: str
    note: str = ""
    raw: bytes | None = None

    @property
    def key(self) -> str:
        """The Kafka record key: the entity id."""
        return str(self.event["entity_id"])


def wire_bytes(event: SyntheticEvent) -> bytes:
    """What to publish for ``event``: its ``raw`` bytes, else its record in Avro single-object encoding.

    Works for bad events too (a model would refuse them): the record is written as it is, so
    the hub, not the publisher, finds what is wrong with it.
    """
    if event.raw is not None:
        return event.raw
    return serde.encode_record(event.family, avro_record(event.event))


_DECIMALS = frozenset({"total_net", "value", "quantity", "unit_price", "line_total"})
_DATES = frozenset({"order_date", "start_date", "end_date", "max_extent_date"})
_TIMESTAMPS = frozenset({"occurred_at", "published_at"})


def avro_record(event: Json) -> Json:
    """A JSON-form event with Python values where Avro has logical types (Decimal, date, datetime)."""

    def value(name: str, v: Any) -> Any:
        if v is None:
            return None
        if name in _DECIMALS:
            return Decimal(v)
        if name in _DATES:
            return date.fromisoformat(v)
        if name in _TIMESTAMPS:
            return _parse_ts(v)
        if isinstance(v, dict):
            return {k: value(k, x) for k, x in v.items()}
        if isinstance(v, list):
            return [value(name, x) for x in v]
        return v

    return {k: value(k, v) for k, v in event.items()}


def generate(seed: int, today: date, scale: float = 1.0) -> list[SyntheticEvent]:
    """Every member's activity up to ``today``, in delivery order. Same inputs, same output.

    ``scale`` multiplies the number of orders and contracts per member (1.0 gives about five
    thousand events in under a second; every member still gets at least one contract and order).
    """
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    frameworks = _frameworks(seed, today)
    pending: list[_Pending] = []
    for index, member in enumerate(MEMBERS):
        run = _MemberRun(member, index, seed, today, scale, frameworks)
        run.generate()
        pending.extend(run.pending)
    pending.extend(_bad_events(seed, today, len(pending)))
    pending.sort(key=lambda p: (p.delivered_at, p.order))
    return _label(pending)


def expected_activity(events: Iterable[SyntheticEvent]) -> dict[str, Json]:
    """The member-activity counts the hub should report once it has consumed ``events``."""
    out: dict[str, Json] = {}
    for e in events:
        item = out.setdefault(
            e.member, {"accepted": 0, "duplicates": 0, "rejected": {}, "last_event_at": None}
        )
        if e.expected == "good":
            item["accepted"] += 1
        elif e.expected == "duplicate":
            item["duplicates"] += 1
        else:
            kind = e.expected.removeprefix("bad:")
            item["rejected"][kind] = item["rejected"].get(kind, 0) + 1
        published = None if e.expected == "bad:decode" else e.event["published_at"]  # unreadable: unseen
        if published is not None and (item["last_event_at"] is None or published > item["last_event_at"]):
            item["last_event_at"] = published
    return out


@dataclass
class _Pending:
    delivered_at: datetime
    order: tuple[int, int]  # (member index, sequence): a total order for equal times
    member: str
    family: Family
    event: Json
    bad: str | None = None
    note: str = ""
    raw: bytes | None = None


def _label(pending: Sequence[_Pending]) -> list[SyntheticEvent]:
    """Label each event by what the hub sees in this delivery order: versions are the truth."""
    applied: dict[tuple[str, str, str], int] = {}
    out: list[SyntheticEvent] = []
    for p in pending:
        if p.bad is not None:
            expected = f"bad:{p.bad}"
        else:
            key = (p.member, p.family, str(p.event["entity_id"]))
            version = int(p.event["entity_version"])
            if version > applied.get(key, 0):
                applied[key] = version
                expected = "good"
            else:
                expected = "duplicate"
        # a copy each, so a consumer that edits one event cannot change another
        out.append(SyntheticEvent(p.member, p.family, copy.deepcopy(p.event), expected, p.note, p.raw))
    return out


# --- one member's activity --------------------------------------------------------------------

# Where contracts end relative to today (days), cycled per member so every bucket appears.
_BUCKETS = ("within_6m", "6_to_12m", "12_to_24m", "past_end", "within_6m", "beyond_24m", "6_to_12m",
            "expired", "12_to_24m", "pending")
_END_DAYS = {
    "within_6m": (7, 175), "6_to_12m": (190, 355), "12_to_24m": (375, 715), "beyond_24m": (740, 1460),
    "past_end": (-120, -1), "expired": (-500, -30),
}


def _frameworks(seed: int, today: date) -> dict[str, str]:
    """National framework references by item, which the national team's contracts carry."""
    rng = random.Random(f"{seed}/frameworks")
    chosen = rng.sample([item.key for item in ITEMS], k=12)
    return {
        key: f"BLN-FW-{today.year - rng.randint(1, 3)}-{n:03d}" for n, key in enumerate(sorted(chosen), 1)
    }


@dataclass
class _Party:
    """A supplier as one member knows it."""

    spec: SupplierSpec
    member_supplier_id: str
    name: str

    def ref(self) -> Json:
        return {
            "member_supplier_id": self.member_supplier_id,
            "name": self.name,
            "companies_house_number": companies_house_number(self.spec),
            "vat_number": vat_number(self.spec) if self.spec.identity == "vat" else None,
            "duns": duns_number(self.spec) if self.spec.identity == "duns" else None,
            "ppon": None,
        }


@dataclass
class _MemberRun:
    member: Member
    index: int
    seed: int
    today: date
    scale: float
    frameworks: dict[str, str]
    pending: list[_Pending] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"{self.seed}/{self.member.id}")
        self.cutoff = datetime.combine(self.today, time(0), UTC) - timedelta(minutes=1)
        self.load_at = datetime.combine(self.today - timedelta(days=30), time(2), UTC)
        self.parties: dict[str, _Party] = {}
        self.counter = 0
        self.seq = 0
        self.live_contracts: dict[str, str] = {}  # supplier name -> contract entity id
        sector = self.member.sector[0]
        self.items = [item for item in ITEMS if sector in item.sectors]
        self.item_keys = {item.key for item in self.items}
        self.suppliers = [s for s in NATIONAL_SUPPLIERS if self.item_keys.intersection(s.items)]
        self.suppliers += [replace(s, name=s.name.format(area=self.member.area)) for s in _LOCAL_SUPPLIERS]

    # the flow: contracts, orders, the records of the suppliers they name, then resends and reorderings
    def generate(self) -> None:
        national = self.member.sector == "national"
        for n in range(max(1, round((14 if national else self.rng.randint(3, 7)) * self.scale))):
            self.contract(n)
        for _ in range(max(1, round((12 if national else self.rng.randint(22, 40)) * self.scale))):
            self.order()
        if self.member.id in _UNMAPPED:  # one order the reference data cannot place, every time
            self.order(ITEM_BY_KEY[_UNMAPPED[self.member.id]])
        for party in list(self.parties.values()):
            self.supplier(party)
        self.resend_and_reorder()

    def emit(self, family: Family, event: Json) -> None:
        self.seq += 1
        when = _parse_ts(event["published_at"])
        self.pending.append(_Pending(when, (self.index, self.seq), self.member.id, family, event))

    def party(self, spec: SupplierSpec) -> _Party:
        if spec.name not in self.parties:
            n = 1000 + len(self.parties) * 7 + self.rng.randint(0, 6)
            system = self.member.source_system
            supplier_id = {"sap-s4": f"{100000 + n:010d}", "oracle-fusion": f"{300000000 + n}",
                           "unit4": f"S{n:05d}"}.get(system, f"V-{n:06d}")
            name = spec.name
            if system == "sap-s4":
                name = name.upper().replace(" LTD", " LIMITED")
            elif system == "unit4" and self.rng.random() < 0.5:
                name = name.replace(" Ltd", " Limited")
            self.parties[spec.name] = _Party(spec, supplier_id, name)
        return self.parties[spec.name]

    def next_id(self, kind: Literal["order", "contract"]) -> str:
        self.counter += 1
        n = self.counter
        system = self.member.source_system
        if kind == "order":
            return {"sap-s4": f"45000{n:05d}", "oracle-fusion": f"PO{200000 + n}",
                    "unit4": f"P{n:08d}"}.get(system, f"PO-{n:06d}")
        return {"sap-s4": f"46000{n:05d}", "oracle-fusion": f"CPA-{n:05d}",
                "unit4": f"C{n:06d}"}.get(system, f"CON-{n:05d}")

    def envelope(self, family: Family, entity_id: str, version: int, occurred: datetime,
                 published: datetime) -> Json:
        return {
            "event_id": event_id_for(self.member.id, family, entity_id, version),
            "member_id": self.member.id,
            "source_system": self.member.source_system,
            "entity_id": entity_id,
            "entity_version": version,
            "occurred_at": _ts(occurred),
            "published_at": _ts(published),
        }

    def classification(self, item: Item) -> Json:
        local = dict(item.local).get(self.member.id)
        unmapped = _UNMAPPED.get(self.member.id) == item.key
        if local and (unmapped or self.member.id == "london-fire" or self.rng.random() < 0.7):
            return {"scheme": "LOCAL", "code": local}
        if self.member.id in _UNSPSC_MEMBERS and item.unspsc and self.rng.random() < 0.8:
            return {"scheme": "UNSPSC", "code": item.unspsc}
        if self.member.id in _ECLASS_MEMBERS and item.eclass:
            return {"scheme": "ECLASS", "code": item.eclass}
        code = item.cpv
        style = self.rng.random()
        if code in _CHECK_DIGIT_CPV and style < 0.5:
            code = _CHECK_DIGIT_CPV[code] if style < 0.35 else _CHECK_DIGIT_CPV[code].replace("-", "")
        return {"scheme": "CPV", "code": code}

    # contracts ---------------------------------------------------------------------------------
    def contract(self, n: int) -> None:
        rng = self.rng
        spec = rng.choice([s for s in self.suppliers if s.postcode])  # national suppliers hold contracts
        item = ITEM_BY_KEY[rng.choice([k for k in spec.items if k in self.item_keys])]
        bucket = _BUCKETS[(self.index + n) % len(_BUCKETS)]
        years = rng.randint(1, 4)
        if bucket == "pending":
            start = self.today + timedelta(days=rng.randint(14, 120))
            end = _add_months(start, 12 * years) - timedelta(days=1)
            status = "PENDING"
        else:
            lo, hi = _END_DAYS[bucket]
            end = self.today + timedelta(days=rng.randint(lo, hi))
            start = _add_months(end + timedelta(days=1), -12 * years)
            status = "EXPIRED" if bucket == "expired" else "ACTIVE"
        extent = _add_months(end, 12 * rng.randint(1, 2)) if rng.random() < 0.5 else None
        annual = Decimal(item.price[1]) * Decimal(item.quantity[1]) * Decimal(rng.randint(4, 12))
        national = self.member.sector == "national"
        value = Decimal(round(annual * years / 100) * 100) * (10 if national else 1)  # frameworks: all users
        entity_id = self.next_id("contract")
        party = self.party(spec)
        awarded = min(start - timedelta(days=21), self.load_at.date() - timedelta(days=1))
        occurred = datetime.combine(awarded, time(10), UTC)
        published = self.load_at + timedelta(minutes=self.seq)
        framework = self.frameworks.get(item.key)
        body: Json = {
            "status": status,
            "title": f"{'National framework: ' if national else ''}{item.title}",
            "supplier": party.ref(),
            "classification": self.classification(item),
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "max_extent_date": extent.isoformat() if extent else None,
            "value": _money(value),
            "currency": "GBP",
            "framework_ref": framework if (national or rng.random() < 0.5) else None,
            "ocid": f"ocds-b5fd17-{uuid.uuid5(uuid.NAMESPACE_URL, self.member.id + entity_id)}"
            if rng.random() < 0.3 else None,
        }
        self.emit("contract", {**self.envelope("contract", entity_id, 1, occurred, published), **body})
        if status in ("ACTIVE", "PENDING"):
            self.live_contracts[spec.name] = entity_id
        change = rng.random()
        if change < 0.3 and status != "EXPIRED":
            when = self.between(published, self.cutoff)
            if change < 0.08:  # terminated early, or a pending award withdrawn
                amended = {**body, "status": "CANCELLED" if status == "PENDING" else "TERMINATED"}
            elif change < 0.2:  # a contract variation: more spend
                amended = {**body, "value": _money(value * Decimal(rng.choice(["1.10", "1.25", "1.40"])))}
            else:  # an extension option taken up
                new_end = _add_months(end, rng.choice([6, 12]))
                amended = {**body, "end_date": new_end.isoformat(),
                           "max_extent_date": max(extent, new_end).isoformat() if extent else None}
            self.emit("contract", {**self.envelope("contract", entity_id, 2, when, when), **amended})

    # orders ------------------------------------------------------------------------------------
    def order(self, first: Item | None = None) -> None:
        rng = self.rng
        first = first or self.pick(self.items)
        spec = rng.choice([s for s in self.suppliers if first.key in s.items])
        choices = [ITEM_BY_KEY[k] for k in spec.items if k in self.item_keys]
        lines_items = [first, *(self.pick(choices) for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])))]
        order_date = self.today - timedelta(days=rng.randint(1, 364))
        occurred = datetime.combine(order_date, time(8), UTC) + timedelta(minutes=rng.randint(0, 540))
        published = occurred + timedelta(minutes=rng.randint(1, 90))
        entity_id = self.next_id("order")
        party = self.party(spec)
        contract_ref = self.live_contracts.get(spec.name) if rng.random() < 0.8 else None
        lines = [self.line(n, item) for n, item in enumerate(lines_items, 1)]
        body: Json = {
            "status": "ISSUED",
            "order_date": order_date.isoformat(),
            "currency": "GBP",
            "supplier": party.ref(),
            "contract_ref": contract_ref,
            "lines": lines,
            "total_net": _total(lines),
        }
        family: Family = "purchase-order"
        self.emit(family, {**self.envelope(family, entity_id, 1, occurred, published), **body})
        for version, (when, changed) in enumerate(self.order_changes(body, published), 2):
            self.emit(family, {**self.envelope(family, entity_id, version, when, when), **changed})

    def pick(self, items: Sequence[Item]) -> Item:
        return self.rng.choices(items, weights=[_OFTEN.get(item.key, 3) for item in items])[0]

    def line(self, n: int, item: Item) -> Json:
        quantity = _between(self.rng, item.quantity, item.quantity_places)
        price = _between(self.rng, item.price, item.price_places)
        return _line(self.line_id(n), item, quantity, price, self.classification(item))

    def line_id(self, n: int) -> str:
        return f"{n * 10:05d}" if self.member.source_system == "sap-s4" else str(n)

    def order_changes(self, body: Json, published: datetime) -> list[tuple[datetime, Json]]:
        """The later versions of an order: amended, cancelled, received, closed (in time order)."""
        rng = self.rng
        steps: list[tuple[datetime, Json]] = []
        at = published
        roll = rng.random()
        if roll < 0.06:
            at += timedelta(days=rng.randint(1, 10), minutes=rng.randint(1, 600))
            steps.append((at, {**body, "status": "CANCELLED"}))
        else:
            if roll < 0.18:
                lines = [dict(line) for line in body["lines"]]
                target = rng.randrange(len(lines))
                old = lines[target]
                item = _item_of(old)
                quantity = _between(rng, item.quantity, item.quantity_places)
                price = Decimal(old["unit_price"])
                lines[target] = _line(old["line_id"], item, quantity, price, old["classification"])
                body = {**body, "status": "AMENDED", "lines": lines, "total_net": _total(lines)}
                at += timedelta(days=rng.randint(1, 6), minutes=rng.randint(1, 600))
                steps.append((at, body))
            if rng.random() < 0.7:
                at += timedelta(days=rng.randint(3, 25), minutes=rng.randint(1, 600))
                steps.append((at, {**body, "status": "RECEIVED"}))
                if rng.random() < 0.5:
                    at += timedelta(days=rng.randint(10, 45), minutes=rng.randint(1, 600))
                    steps.append((at, {**body, "status": "CLOSED"}))
        return [(when, changed) for when, changed in steps if when < self.cutoff]

    # supplier records --------------------------------------------------------------------------
    def supplier(self, party: _Party) -> None:
        rng = self.rng
        spec = party.spec
        ref = party.ref()
        published = self.load_at + timedelta(minutes=self.seq)
        occurred = published - timedelta(days=rng.randint(100, 2000))
        body: Json = {
            "status": "ACTIVE",
            "legal_name": party.name,
            "companies_house_number": ref["companies_house_number"],
            "vat_number": ref["vat_number"],
            "duns": ref["duns"],
            "ppon": None,
            "postcode": spec.postcode or None,
            "sme": spec.sme,
            "vcse": spec.vcse,
        }
        entity_id = party.member_supplier_id
        self.emit("supplier", {**self.envelope("supplier", entity_id, 1, occurred, published), **body})
        if rng.random() < 0.12:
            when = self.between(published, self.cutoff)
            changed = {**body, "status": "INACTIVE"} if rng.random() < 0.4 else {**body, "sme": not spec.sme}
            self.emit("supplier", {**self.envelope("supplier", entity_id, 2, when, when), **changed})

    # delivery: exact resends, and versions that arrive late ------------------------------------
    def resend_and_reorder(self) -> None:
        rng = self.rng
        by_entity: dict[tuple[str, str], list[_Pending]] = {}
        for p in self.pending:
            by_entity.setdefault((p.family, str(p.event["entity_id"])), []).append(p)
        for versions in by_entity.values():
            if len(versions) >= 2 and rng.random() < 0.08:
                older, newer = versions[-2], versions[-1]
                late = newer.delivered_at + timedelta(minutes=1)
                older.delivered_at, newer.delivered_at = late, older.delivered_at
                older.note = "out of order: delivered after a newer version"
        originals = list(self.pending)
        for p in rng.sample(originals, k=max(1, round(len(originals) * 0.02))):
            self.seq += 1
            again = p.delivered_at + timedelta(minutes=rng.randint(1, 2880))
            resent = _Pending(again, (self.index, self.seq), p.member, p.family, copy.deepcopy(p.event),
                              note="resend: an exact copy of an earlier event")
            self.pending.append(resent)

    def between(self, start: datetime, end: datetime) -> datetime:
        """A whole-second time after ``start`` and before ``end`` (just after start if none)."""
        span = int((end - start).total_seconds())
        if span <= 2:
            return start + timedelta(seconds=1)
        return start + timedelta(seconds=self.rng.randint(1, span - 1))


# --- bad events -------------------------------------------------------------------------------


def _bad_events(seed: int, today: date, good_count: int) -> list[_Pending]:
    """About 1% bad events, every kind at least once, from members picked by the seed."""
    rng = random.Random(f"{seed}/bad")
    recipes = ("wrong-total", "half-even", "companies-house", "end-before-start", "non-gbp", "tenant",
               "version-zero", "undecodable", "wrong-topic")
    count = max(len(recipes), round(good_count * 0.01))
    out: list[_Pending] = []
    for n in range(count):
        index = rng.randrange(len(MEMBERS))
        member = MEMBERS[index]
        run = _MemberRun(member, index, seed, today, 1.0, {})
        run.rng = random.Random(f"{seed}/bad/{n}")
        run.counter = 90000 + n  # entity ids apart from the member's good ones
        run.seq = 100000 + n
        recipe = recipes[n % len(recipes)]
        out.append(_bad(run, recipe, rng))
    return out


def _bad(run: _MemberRun, recipe: str, rng: random.Random) -> _Pending:
    """One bad event of ``recipe``, otherwise valid so it is rejected for that reason alone."""
    run.order()
    event = copy.deepcopy(run.pending[0].event)  # the order's v1; later versions are not wanted
    run.pending.clear()
    family: Family = "purchase-order"
    kind, note, raw = "validation", "", None
    published = datetime.combine(run.today, time(0), UTC) - timedelta(minutes=rng.randint(10, 30 * 24 * 60))
    event["published_at"] = _ts(published)
    event["occurred_at"] = _ts(min(published, _parse_ts(event["occurred_at"])))
    if recipe == "wrong-total":
        wrong = Decimal(event["total_net"]) + Decimal(rng.choice(["0.01", "1.00", "10.00"]))
        event["total_net"] = _money(wrong)
        note = "total_net is not the sum of the lines"
    elif recipe == "half-even":
        item = ITEM_BY_KEY["diesel"]
        cpv = {"scheme": "CPV", "code": item.cpv}
        line = _line(run.line_id(1), item, Decimal("10.5000"), Decimal("2.3300"), cpv)
        line["line_total"] = _money(Decimal("24.465").quantize(PENNY, rounding=ROUND_HALF_EVEN))
        event["lines"] = [line]
        event["total_net"] = line["line_total"]
        note = "line_total 24.46 rounds 10.5 x 2.33 = 24.465 half-even; the rule is half-up (24.47)"
    elif recipe == "companies-house":
        event = _supplier_record(run, event, "11111111.0")
        family = "supplier"
        note = "companies_house_number '11111111.0' is a spreadsheet float, not a Companies House number"
    elif recipe == "end-before-start":
        event = _bad_contract(run, event)
        family = "contract"
        note = "end_date is before start_date"
    elif recipe == "non-gbp":
        kind = "unsupported"
        party = _Party(_EURO_SUPPLIER, "EU-0042", _EURO_SUPPLIER.name)
        item = ITEM_BY_KEY["hose"]
        cpv = {"scheme": "CPV", "code": item.cpv}
        line = _line(run.line_id(1), item, Decimal("40"), Decimal("118.5000"), cpv)
        event.update(currency="EUR", supplier=party.ref(), contract_ref=None, lines=[line])
        event["total_net"] = _total([line])
        note = "currency EUR: v1 views aggregate GBP only"
    elif recipe == "tenant":
        kind = "tenant"
        other = MEMBERS[(MEMBERS.index(run.member) + 1) % len(MEMBERS)]
        event["member_id"] = other.id
        event["event_id"] = event_id_for(other.id, family, event["entity_id"], 1)
        note = f"claims to be {other.id} on {run.member.id}'s topic"
    elif recipe == "version-zero":
        event["entity_version"] = 0
        event["event_id"] = event_id_for(run.member.id, family, event["entity_id"], 0)
        note = "entity_version 0: versions start at 1"
    elif recipe == "wrong-topic":
        kind = "schema"
        event = _supplier_record(run, event, companies_house_number(run.suppliers[0]))
        raw = serde.encode_record("supplier", avro_record(event))
        note = "a supplier record on the purchase-orders topic"
    else:
        kind = "decode"
        raw = json.dumps(event).encode()
        note = "JSON text where Avro single-object encoding was expected"
    delivered = _parse_ts(event["published_at"])
    return _Pending(delivered, (run.index, run.seq), run.member.id, family, event, kind, note, raw)


def _supplier_record(run: _MemberRun, order: Json, companies_house: str | None) -> Json:
    party = run.party(run.suppliers[0])
    envelope = {k: order[k] for k in ("source_system", "occurred_at", "published_at", "member_id")}
    entity_id = party.member_supplier_id + "-X"
    return {
        "event_id": event_id_for(run.member.id, "supplier", entity_id, 1),
        **envelope,
        "entity_id": entity_id,
        "entity_version": 1,
        "status": "ACTIVE",
        "legal_name": party.name,
        "companies_house_number": companies_house,
        "vat_number": None,
        "duns": None,
        "ppon": None,
        "postcode": None,
        "sme": None,
        "vcse": None,
    }


def _bad_contract(run: _MemberRun, order: Json) -> Json:
    item = ITEM_BY_KEY["laptop"]
    entity_id = run.next_id("contract")
    start = run.today - timedelta(days=200)
    envelope = {k: order[k] for k in ("source_system", "occurred_at", "published_at", "member_id")}
    return {
        "event_id": event_id_for(run.member.id, "contract", entity_id, 1),
        **envelope,
        "entity_id": entity_id,
        "entity_version": 1,
        "status": "ACTIVE",
        "title": item.title,
        "supplier": order["supplier"],
        "classification": {"scheme": "CPV", "code": item.cpv},
        "start_date": start.isoformat(),
        "end_date": (start - timedelta(days=30)).isoformat(),
        "max_extent_date": None,
        "value": "125000.00",
        "currency": "GBP",
        "framework_ref": None,
        "ocid": None,
    }


# --- values -----------------------------------------------------------------------------------


def _line(line_id: str, item: Item, quantity: Decimal, price: Decimal, classification: Json) -> Json:
    """An order line, its total the quantity x unit price rounded half-up to the penny."""
    return {
        "line_id": line_id,
        "description": item.description,
        "quantity": _four(quantity),
        "unit": item.unit,
        "unit_price": _four(price),
        "line_total": _money((quantity * price).quantize(PENNY, rounding=ROUND_HALF_UP)),
        "classification": classification,
        "item_id": _gtin(item.key) if item.goods else None,
    }


def _item_of(line: Json) -> Item:
    return next(item for item in ITEMS if item.description == line["description"])


def _total(lines: Sequence[Json]) -> str:
    return _money(sum((Decimal(line["line_total"]) for line in lines), Decimal("0.00")))


def _between(rng: random.Random, bounds: tuple[str, str], places: int) -> Decimal:
    scale = 10**places
    lo, hi = (int(Decimal(b) * scale) for b in bounds)
    return Decimal(rng.randint(lo, hi)) / scale


def _money(value: Decimal) -> str:
    return format(value.quantize(PENNY, rounding=ROUND_HALF_UP), "f")


def _four(value: Decimal) -> str:
    return format(value.quantize(FOUR_PLACES), "f")


def _ts(moment: datetime) -> str:
    """ISO-8601 UTC with a Z, to the millisecond: the JSON form of a timestamp-millis."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _gtin(key: str) -> str:
    """A GTIN-13 with a valid check digit (fictional: from the item key)."""
    body = "50" + _digits(key + "/gtin", 10)
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _add_months(day: date, months: int) -> date:
    """Calendar months later (or earlier), the day clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")
