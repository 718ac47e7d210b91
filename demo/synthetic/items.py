"""What partners buy: items with their codes in every scheme, units, price and quantity ranges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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


K, L = "demo-kent-police", "demo-london-fire"  # the two with LOCAL maps (streams/reference/local/)
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
ORDER_WEIGHTS = {
    **dict.fromkeys(("diesel", "petrol", "servicing", "tyres", "goggles", "gloves", "base-layer", "trousers",
                     "laptop", "paper", "washroom", "dna", "interpreting", "agency-staff", "hotel", "rail",
                     "dog-food", "first-aid-kit", "airtime", "hose"), 6),
    **dict.fromkeys(("patrol-car", "counsel", "consultancy", "occupational-health", "mutual-aid", "fm",
                     "escort", "custody-health", "catering", "cleaning", "service-desk", "ba-set"), 2),
    **dict.fromkeys(("rescue-pump", "aerial", "refurb", "roof-works", "architect", "motor-insurance",
                     "banking", "audit", "rms", "motorcycle", "drone", "test-rig", "membership",
                     "rescue-tools"), 1),
}
