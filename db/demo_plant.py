"""The demo plant's data: a sheet-metal shop with six stages, sixty items, eight
products, its people, stations, capacity, standard times, supply, customers and the
reasons it scraps, holds and adjusts for. db/demo.py writes it out as ERP CSVs, loads
it through the real import and posts its history.
"""

from __future__ import annotations

STAGES = [
    ("CUT", "Laser cutting", "WIP-CUT"),
    ("BEND", "Press brake", "WIP-BEND"),
    ("WELD", "Welding", "WIP-WELD"),
    ("PAINT", "Powder coating", "WIP-PAINT"),
    ("ASSY", "Assembly", "WIP-ASSY"),
    ("PACK", "Packing", "WIP-PACK"),
]

LOCATIONS = (
    [("RCV-DOCK", "Receiving dock", "receiving")]
    + [(f"A-{n:02d}", f"Stores aisle A bin {n}", "storeroom") for n in range(1, 7)]
    + [(f"B-{n:02d}", f"Stores aisle B bin {n}", "storeroom") for n in range(1, 5)]
    + [(loc, f"{name} WIP", "stage") for _, name, loc in STAGES]
    + [
        ("FG-01", "Finished goods", "finished"),
        ("SHIP-DOCK", "Shipping dock", "shipping"),
        ("SCRAP", "Scrap bin", "scrap"),
    ]
)

# sku, description, uom, lot tracked, has a GTIN, home bin
PURCHASED = [
    ("SH-ST-15", "Steel sheet 1.5mm 2000x1000", "sheet", False, False, "B-01"),
    ("SH-ST-20", "Steel sheet 2.0mm 2000x1000", "sheet", False, False, "B-01"),
    ("SH-ST-30", "Steel sheet 3.0mm 2000x1000", "sheet", False, False, "B-02"),
    ("SH-SS-15", "Stainless sheet 1.5mm 2000x1000", "sheet", True, False, "B-02"),
    ("SH-AL-20", "Aluminium sheet 2.0mm 2000x1000", "sheet", True, False, "B-02"),
    ("TB-SQ-30", "Square tube 30x30x2", "m", False, False, "B-03"),
    ("TB-SQ-40", "Square tube 40x40x2", "m", False, False, "B-03"),
    ("TB-RD-25", "Round tube 25x1.5", "m", False, False, "B-03"),
    ("FB-40X5", "Flat bar 40x5", "m", False, False, "B-03"),
    ("DIN-35", "DIN rail 35mm", "m", False, True, "A-04"),
    ("PWD-7035", "Powder coat RAL 7035 light grey", "kg", True, True, "B-04"),
    ("PWD-9005", "Powder coat RAL 9005 black", "kg", True, True, "B-04"),
    ("PWD-5010", "Powder coat RAL 5010 blue", "kg", True, True, "B-04"),
    ("SCR-M4X10", "Screw M4x10 pan head", "pcs", False, True, "A-01"),
    ("SCR-M5X12", "Screw M5x12 pan head", "pcs", False, True, "A-01"),
    ("SCR-M6X16", "Screw M6x16 hex", "pcs", False, True, "A-01"),
    ("NUT-M4", "Nut M4", "pcs", False, True, "A-01"),
    ("NUT-M5", "Nut M5", "pcs", False, True, "A-01"),
    ("NUT-M6", "Nut M6", "pcs", False, True, "A-01"),
    ("WSH-M6", "Washer M6", "pcs", False, True, "A-01"),
    ("RIV-48", "Blind rivet 4.8x10", "pcs", False, True, "A-02"),
    ("PEM-M5", "Press-in nut M5", "pcs", False, True, "A-02"),
    ("CN-M6", "Cage nut M6", "pcs", False, True, "A-02"),
    ("HNG-120", "Concealed hinge 120°", "pcs", False, True, "A-02"),
    ("LCK-QT", "Quarter-turn lock", "pcs", False, True, "A-03"),
    ("LCK-KEY", "Key lock with 2 keys", "pcs", False, True, "A-03"),
    ("HDL-200", "Pull handle 200mm", "pcs", False, True, "A-03"),
    ("GSK-PU", "PU foam gasket", "m", True, False, "A-03"),
    ("CG-M20", "Cable gland M20", "pcs", False, True, "A-04"),
    ("CG-M25", "Cable gland M25", "pcs", False, True, "A-04"),
    ("CST-100", "Castor 100mm swivel", "pcs", False, True, "A-05"),
    ("CST-100B", "Castor 100mm swivel braked", "pcs", False, True, "A-05"),
    ("SLD-450", "Drawer slide 450mm pair", "pcs", False, True, "A-05"),
    ("MP-300", "Mounting plate 300x300 galv.", "pcs", False, False, "A-05"),
    ("MP-600", "Mounting plate 600x400 galv.", "pcs", False, False, "A-05"),
    ("WW-08", "MIG welding wire 0.8mm", "kg", True, True, "A-06"),
    ("GAS-ARCO2", "Shielding gas Ar/CO2", "m3", False, False, "A-06"),
    ("LBL-CE", "Rating plate label", "pcs", False, False, "A-06"),
    ("BOX-S", "Carton small", "pcs", False, False, "A-06"),
    ("BOX-M", "Carton medium", "pcs", False, False, "A-06"),
    ("BOX-L", "Carton large", "pcs", False, False, "A-06"),
    ("PAL-EUR", "Euro pallet", "pcs", False, False, "B-04"),
    ("FOAM-PE", "PE foam wrap", "m", False, False, "A-06"),
    ("STRAP-PP", "PP strapping", "m", False, False, "A-06"),
    ("RR-24U", "Rack rail 24U pair", "pcs", False, True, "A-05"),
    ("ES-M6", "Earth stud M6", "pcs", False, True, "A-02"),
    ("EC-6", "Earth cable 6mm² green/yellow", "m", False, True, "A-04"),
    ("ADH-2K", "2K structural adhesive", "kg", True, True, "A-06"),
    ("TB-TERM", "Terminal block 4mm²", "pcs", True, True, "A-04"),
    ("FAN-120", "Filter fan 120mm", "pcs", False, True, "A-04"),
    ("FLT-120", "Filter mat 120mm", "pcs", False, True, "A-04"),
    ("THERM-1", "Thermostat NC 0-60°C", "pcs", False, True, "A-04"),
]

# stage: (hours per working day, units worked at once): two laser shifts, two press
# brakes, two welders, a powder line taking a rack of ten, three benches, two packers.
CAPACITY = {
    "CUT": (16, 1),
    "BEND": (8, 2),
    "WELD": (8, 2),
    "PAINT": (8, 10),
    "ASSY": (8, 3),
    "PACK": (8, 2),
}
# Standard times of a mid-sized product at each stage: (setup minutes, minutes per unit);
# a product's own are these times its size (SIZE). JBOX-150 has none: the forecast
# uses what its stages measurably did, else the plant-wide fallback.
STANDARD_MINUTES = {
    "CUT": (20, 4),
    "BEND": (15, 6),
    "WELD": (10, 25),
    "PAINT": (30, 8),
    "ASSY": (10, 30),
    "PACK": (5, 5),
}
SIZE = {
    "ENC-300": 0.5,
    "ENC-600": 1.0,
    "CAB-1200": 2.5,
    "CART-TL": 1.5,
    "BRKT-L": 0.2,
    "RACK-19": 2.0,
    "PANEL-DIN": 0.4,
}
# number, item, qty, days from today until due, supplier
PURCHASE_ORDERS = [
    ("PO-7101", "PWD-7035", 100, 2, "Coatings Nord"),
    ("PO-7101", "PWD-9005", 50, 2, "Coatings Nord"),
    ("PO-7102", "GSK-PU", 300, 4, "Sealtec"),
    ("PO-7103", "HNG-120", 500, 6, "Beschlag & Co"),
    ("PO-7103", "LCK-KEY", 200, 6, "Beschlag & Co"),
    ("PO-7104", "SH-ST-15", 120, 1, "Steel Service Center"),
    ("PO-7105", "FAN-120", 40, 9, "Klima Parts"),
]
CUSTOMERS = ["Nordwerk AG", "Voltaic Systems", "Hafen Logistics", "Brightline Data"]
# Every how-many-th demo work order is made for a customer's sales order.
SALES_ORDER_EVERY = 3

FULL_ROUTE = ["CUT", "BEND", "WELD", "PAINT", "ASSY", "PACK"]
# product, description, route, bill of materials: (component, qty per, stage)
PRODUCTS: list[tuple[str, str, list[str], list[tuple[str, str, str]]]] = [
    ("ENC-300", "Steel enclosure 300x300x150", FULL_ROUTE, [
        ("SH-ST-15", "0.25", "CUT"), ("WW-08", "0.05", "WELD"), ("PWD-7035", "0.4", "PAINT"),
        ("HNG-120", "2", "ASSY"), ("LCK-QT", "1", "ASSY"), ("GSK-PU", "1.2", "ASSY"),
        ("MP-300", "1", "ASSY"), ("ES-M6", "1", "ASSY"), ("BOX-M", "1", "PACK"),
        ("LBL-CE", "1", "PACK"),
    ]),
    ("ENC-600", "Steel enclosure 600x400x200", FULL_ROUTE, [
        ("SH-ST-15", "0.6", "CUT"), ("WW-08", "0.1", "WELD"), ("PWD-7035", "0.9", "PAINT"),
        ("HNG-120", "2", "ASSY"), ("LCK-KEY", "1", "ASSY"), ("GSK-PU", "2", "ASSY"),
        ("MP-600", "1", "ASSY"), ("ES-M6", "2", "ASSY"), ("CG-M25", "4", "ASSY"),
        ("BOX-L", "1", "PACK"), ("LBL-CE", "1", "PACK"),
    ]),
    ("CAB-1200", "Control cabinet 1200x800", FULL_ROUTE, [
        ("SH-ST-20", "2.5", "CUT"), ("TB-SQ-40", "4.8", "WELD"), ("WW-08", "0.4", "WELD"),
        ("PWD-7035", "3.2", "PAINT"), ("HNG-120", "3", "ASSY"), ("LCK-KEY", "2", "ASSY"),
        ("GSK-PU", "5.5", "ASSY"), ("FAN-120", "1", "ASSY"), ("FLT-120", "2", "ASSY"),
        ("THERM-1", "1", "ASSY"), ("DIN-35", "1.6", "ASSY"), ("TB-TERM", "24", "ASSY"),
        ("EC-6", "2.5", "ASSY"), ("PAL-EUR", "1", "PACK"), ("FOAM-PE", "6", "PACK"),
        ("STRAP-PP", "8", "PACK"),
    ]),
    ("CART-TL", "Tool cart, 3 drawers", FULL_ROUTE, [
        ("SH-ST-15", "1.2", "CUT"), ("TB-SQ-30", "3.2", "WELD"), ("WW-08", "0.2", "WELD"),
        ("PWD-5010", "1.5", "PAINT"), ("SLD-450", "3", "ASSY"), ("CST-100", "2", "ASSY"),
        ("CST-100B", "2", "ASSY"), ("HDL-200", "1", "ASSY"), ("SCR-M6X16", "16", "ASSY"),
        ("NUT-M6", "16", "ASSY"), ("BOX-L", "1", "PACK"),
    ]),
    ("BRKT-L", "Wall bracket L 200", ["CUT", "BEND", "PAINT", "PACK"], [
        ("SH-ST-30", "0.05", "CUT"), ("PWD-9005", "0.08", "PAINT"), ("BOX-S", "0.1", "PACK"),
    ]),
    ("RACK-19", "19-inch rack 24U", FULL_ROUTE, [
        ("SH-ST-20", "1.8", "CUT"), ("TB-SQ-40", "6", "WELD"), ("WW-08", "0.3", "WELD"),
        ("PWD-9005", "2.4", "PAINT"), ("RR-24U", "2", "ASSY"), ("CN-M6", "40", "ASSY"),
        ("SCR-M6X16", "40", "ASSY"), ("CST-100", "4", "ASSY"), ("LCK-KEY", "1", "ASSY"),
        ("PAL-EUR", "1", "PACK"), ("FOAM-PE", "4", "PACK"),
    ]),
    ("PANEL-DIN", "DIN rail mounting panel", ["CUT", "BEND", "ASSY", "PACK"], [
        ("SH-AL-20", "0.2", "CUT"), ("DIN-35", "0.5", "ASSY"), ("PEM-M5", "4", "ASSY"),
        ("SCR-M5X12", "4", "ASSY"), ("BOX-S", "1", "PACK"),
    ]),
    ("JBOX-150", "Stainless junction box 150", FULL_ROUTE, [
        ("SH-SS-15", "0.1", "CUT"), ("WW-08", "0.02", "WELD"), ("PWD-7035", "0.1", "PAINT"),
        ("GSK-PU", "0.6", "ASSY"), ("CG-M20", "2", "ASSY"), ("SCR-M4X10", "4", "ASSY"),
        ("NUT-M4", "4", "ASSY"), ("ADH-2K", "0.01", "ASSY"), ("BOX-S", "1", "PACK"),
    ]),
]  # fmt: skip

OPERATORS = [
    ("B1001", "Ana Ribeiro", "storeroom"),
    ("B1002", "Tom Walsh", "storeroom"),
    ("B2001", "Kemal Aydin", "operator"),
    ("B2002", "Grace Obi", "operator"),
    ("B2003", "Lukas Brandt", "operator"),
    ("B2004", "Mei Lin", "operator"),
    ("B2005", "Piotr Nowak", "operator"),
    ("B3001", "Sara Lindqvist", "supervisor"),
    ("B3002", "Omar Haddad", "supervisor"),
    ("B4001", "Julia Moreau", "coordinator"),
]

STATIONS = [
    ("STORES", "Stores window", "A-01", "", "ISSUE"),
    ("RECEIVING", "Receiving dock", "RCV-DOCK", "", "RECEIVE"),
    ("SHIPPING", "Shipping dock", "FG-01", "", "SHIP"),
] + [(f"{code}-1", f"{name} cell", loc, code, "PROGRESS") for code, name, loc in STAGES]

DEMO_WORK_ORDERS = 40
SEED = 20261122


def gtin_for(index: int) -> str:
    """A valid GTIN-13 in the 0950600 test prefix (GS1's example range)."""
    body = f"950600{index:06d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


# code, description, kind: what the floor scraps, holds and adjusts for.
REASONS = [
    ("DENT", "Dented or scratched in handling", "scrap"),
    ("BURR", "Burr or bad cut edge", "scrap"),
    ("BEND-ANGLE", "Bend angle out of tolerance", "scrap"),
    ("WELD-POROS", "Weld porosity or crack", "scrap"),
    ("COAT-DEFECT", "Coating runs, orange peel or bare spots", "scrap"),
    ("WRONG-PART", "Wrong part or wrong material", "scrap"),
    ("WAIT-DWG", "Waiting for the customer's drawing", "hold"),
    ("QA-HOLD", "Held by quality for inspection", "hold"),
    ("MAT-SHORT", "Material short, supply expected", "hold"),
    ("MISCOUNT", "Earlier count or issue was wrong", "adjust"),
    ("DAMAGED", "Found damaged in the bin", "adjust"),
    ("FOUND", "Found stock not on record", "adjust"),
]
# The scrap reason each stage's history and simulated scans give (no random draw: the
# demo's history stays what its seed made it).
SCRAP_REASON_AT = {
    "CUT": "BURR",
    "BEND": "BEND-ANGLE",
    "WELD": "WELD-POROS",
    "PAINT": "COAT-DEFECT",
    "ASSY": "DENT",
    "PACK": "DENT",
}
