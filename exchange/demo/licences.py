"""The demo's business licences: generated from a seed, realistic in form, clearly fictional
(Demo Province, "(fictional)" people, region code 99 that no real region has).

Credit codes carry a correct GB 32100-2015 check character, so they look and validate
like real ones without being anyone's.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

# The files shipped in demo/: the first is dropped into the inbox by the seed, the second
# is for the user to drop in. `exchange demo generate` writes them from this seed.
DATA_SEED = 2026
FIRST_FILE, FIRST_COUNT = Path("demo/inbox/business-licences-0001.csv"), 300
SECOND_FILE, SECOND_COUNT = Path("demo/more/business-licences-0002.csv"), 60
CODE_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
FICTIONAL_REGION = "990100"
COLUMNS = (
    "unified_social_credit_code", "enterprise_name", "enterprise_type",
    "legal_representative.name", "registered_capital.amount", "registered_capital.currency",
    "date_of_establishment", "business_term.from", "business_term.to", "business_scope",
    "registered_address.province", "registered_address.city", "registered_address.district",
    "registered_address.street", "registered_address.postal_code", "registration_authority",
    "issue_date", "status",
)  # fmt: skip

_PLACES = ("Lakeside", "Northbrook", "Eastgate", "Willowbank", "Stonebridge", "Riverbend")
_WORDS = (
    "Harmony", "Evergreen", "Golden Grain", "Blue Harbour", "Bright Star", "Silver Birch",
    "Red Lantern", "Jade Valley", "Morning Tide", "Pine Ridge", "Summit", "Orchard",
)  # fmt: skip
_DISTRICTS = ("Old Town", "Harbour", "Hillside", "Market")
_TRADES = (
    ("Tea Trading", "Wholesale and retail of tea"),
    ("Software", "Software development and information technology services"),
    ("Logistics", "Road freight, warehousing and delivery"),
    ("Catering", "Restaurant and catering services"),
    ("Textiles", "Manufacture and sale of textiles"),
    ("Building Materials", "Sale of building materials"),
    ("Agricultural Produce", "Purchase and sale of agricultural produce"),
    ("Printing", "Printing and packaging"),
)
_TYPES = (
    ("limited_liability_company", "Co., Ltd."),
    ("joint_stock_company", "Holdings Co."),
    ("sole_proprietorship", "Sole Proprietorship"),
    ("partnership", "Partners"),
    ("individual_business", "Shop"),
)
_SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu")
_GIVEN = ("Ming", "Hua", "Jun", "Fang", "Lei", "Ying", "Tao", "Xin", "Bo", "Lan")
_STATUSES = ("active",) * 17 + ("suspended", "revoked", "deregistered")
_CURRENCIES = ("CNY",) * 9 + ("HKD",)


def credit_code_check(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a credit code."""
    total = sum(CODE_CHARACTERS.index(c) * w for c, w in zip(first17, CODE_WEIGHTS, strict=True))
    return CODE_CHARACTERS[(31 - total % 31) % 31]


def credit_code(serial: int) -> str:
    """A well-formed credit code in the fictional region: unique per `serial`."""
    body = "91" + FICTIONAL_REGION + "MA" + _base31(serial, 7)
    return body + credit_code_check(body)


def _base31(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 31)
        digits.append(CODE_CHARACTERS[remainder])
    return "".join(reversed(digits))


def generate_licences(count: int, seed: int, first_serial: int = 1) -> Iterator[dict[str, str]]:
    """`count` licences as CSV rows (dotted column names), the same for the same seed."""
    generator = random.Random(seed)
    for serial in range(first_serial, first_serial + count):
        yield _licence(generator, serial)


def _licence(rng: random.Random, serial: int) -> dict[str, str]:
    place = rng.choice(_PLACES)
    trade, scope = rng.choice(_TRADES)
    kind, suffix = rng.choice(_TYPES)
    established = date(2005, 1, 1) + timedelta(days=rng.randrange(7000))
    issued = established + timedelta(days=rng.randrange(30, 400))
    values: dict[str, Any] = {
        "unified_social_credit_code": credit_code(serial),
        "enterprise_name": f"{place} {rng.choice(_WORDS)} {trade} {suffix}",
        "enterprise_type": kind,
        "legal_representative.name": f"{rng.choice(_SURNAMES)} {rng.choice(_GIVEN)} (fictional)",
        "registered_capital.amount": f"{rng.randrange(10, 5000) * 10000}.00",
        "registered_capital.currency": rng.choice(_CURRENCIES),
        "date_of_establishment": established.isoformat(),
        "business_term.from": established.isoformat(),
        "business_term.to": date(established.year + 30, established.month, 1).isoformat(),
        "business_scope": scope,
        "registered_address.province": "Demo Province",
        "registered_address.city": f"{place} City",
        "registered_address.district": f"{rng.choice(_DISTRICTS)} District",
        "registered_address.street": f"{rng.randrange(1, 400)} {rng.choice(_WORDS)} Road",
        "registered_address.postal_code": f"99{rng.randrange(10000):04d}",
        "registration_authority": f"{place} Market Regulation Bureau (demo)",
        "issue_date": issued.isoformat(),
        "status": rng.choice(_STATUSES),
    }
    return {column: str(values[column]) for column in COLUMNS}


def write_csv(rows: Sequence[dict[str, str]], path: Path) -> Path:
    """Write the rows with a header, the way a department system would export them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path
