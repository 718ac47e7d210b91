"""Who partners buy from: fictional national suppliers, each partner's local firms, and their ids.

Companies House numbers are in the 19xxxxxx block (SC9xxxxx for the Scottish one), which
Companies House has not reached, so none names a real company; VAT numbers are random with a
valid HMRC check pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from demo.synthetic.values import Json, digits


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
LOCAL_SUPPLIERS = (
    _s("{area} Vehicle Recovery & Repairs Ltd", "vat", "servicing tyres", "", True),
    _s("{area} Building Maintenance Ltd", "name", "ppm cleaning", "", True),
    _s("{area} Hotel & Conference Centre", "name", "hotel catering", ""),
)
# A supplier from abroad, invoicing in euros: a v1 view rejects it as `unsupported`.
EURO_SUPPLIER = SupplierSpec("Rheinland Feuerwehrtechnik GmbH", "name", ("hose", "ba-set"), "50667")

def companies_house_number(spec: SupplierSpec) -> str | None:
    """The fictional Companies House number: 19xxxxxx, or SC9xxxxx for a Scottish company."""
    if spec.identity == "ch":
        return "19" + digits(spec.name, 6)
    if spec.identity == "sc":
        return "SC9" + digits(spec.name, 5)
    return None


def vat_number(spec: SupplierSpec) -> str:
    """A UK VAT number with a valid HMRC mod-97 check pair (random digits, not a real trader's)."""
    body = "2" + digits(spec.name + "/vat", 6)
    weighted = sum(int(d) * w for d, w in zip(body, range(8, 1, -1), strict=True))
    return f"GB{body}{(-weighted) % 97:02d}"


def duns_number(spec: SupplierSpec) -> str:
    """A 9-digit DUNS-shaped number."""
    return "21" + digits(spec.name + "/duns", 7)


@dataclass
class Party:
    """A supplier as one member knows it."""

    spec: SupplierSpec
    member_supplier_id: str
    name: str

    def ref(self) -> Json:
        """The supplier reference an order or contract of this member carries."""
        return {
            "member_supplier_id": self.member_supplier_id,
            "name": self.name,
            "companies_house_number": companies_house_number(self.spec),
            "vat_number": vat_number(self.spec) if self.spec.identity == "vat" else None,
            "duns": duns_number(self.spec) if self.spec.identity == "duns" else None,
            "ppon": None,
        }
