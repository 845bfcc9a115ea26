"""The demo's generated licences: deterministic, well-formed, clearly fictional, and the
files shipped in demo/ are exactly what the generator makes."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from exchange.demo.licences import (
    COLUMNS,
    DATA_SEED,
    FIRST_COUNT,
    FIRST_FILE,
    SECOND_COUNT,
    SECOND_FILE,
    credit_code,
    credit_code_check,
    generate_licences,
)

ROOT = Path(__file__).resolve().parents[2]
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def test_check_character_is_the_gb_32100_one():
    # The worked example of GB 32100-2015: 91350100M000100Y4 has check character 3.
    assert credit_code_check("91350100M000100Y4") == "3"


def test_credit_codes_are_well_formed_unique_and_in_no_real_region():
    codes = [credit_code(serial) for serial in range(1, 2000)]
    assert len(set(codes)) == len(codes)
    assert all(CREDIT_CODE.match(code) for code in codes)
    assert all(code[2:8] == "990100" for code in codes)
    assert all(credit_code_check(code[:17]) == code[17] for code in codes)


def test_the_same_seed_gives_the_same_licences_and_another_seed_others():
    assert list(generate_licences(20, seed=7)) == list(generate_licences(20, seed=7))
    assert list(generate_licences(20, seed=7)) != list(generate_licences(20, seed=8))


def test_every_licence_is_marked_fictional():
    for row in generate_licences(100, seed=1):
        assert row["legal_representative.name"].endswith("(fictional)")
        assert row["registered_address.province"] == "Demo Province"


def test_shipped_demo_files_are_what_the_generator_makes():
    rows = list(generate_licences(FIRST_COUNT + SECOND_COUNT, DATA_SEED))
    for path, expected in ((FIRST_FILE, rows[:FIRST_COUNT]), (SECOND_FILE, rows[FIRST_COUNT:])):
        with (ROOT / path).open(encoding="utf-8", newline="") as file:
            reader = csv.DictReader(file)
            assert tuple(reader.fieldnames or ()) == COLUMNS
            assert list(reader) == expected
