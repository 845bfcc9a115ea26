"""The example schemas in schemas/: each is safe, closed, and judges its examples rightly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from exchange.registry import RecordValidator, check_schema_safety, open_content_models

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
EXAMPLES = SCHEMAS / "examples"
DEPARTMENT_SUBJECTS = [
    "market-regulation.business-licence",
    "public-security.household-registration",
    "taxation.tax-clearance-certificate",
    "social-security.social-insurance-contribution",
    "housing-construction.building-permit",
    "civil-affairs.marriage-registration",
]
ALL_SCHEMAS = ["envelope", *DEPARTMENT_SUBJECTS]


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def schema_of(name: str) -> Any:
    return load(SCHEMAS / f"{name}.schema.json")


def examples(prefix: str) -> list[tuple[str, Path]]:
    return [
        (name, path)
        for name in ALL_SCHEMAS
        for path in sorted((EXAMPLES / name).glob(f"{prefix}-*.json"))
        if path.name != "invalid-reasons.json"
    ]


def example_id(value: object) -> str:
    return value.name if isinstance(value, Path) else str(value)


def test_every_schema_file_in_the_folder_is_covered_here():
    found = {path.name.removesuffix(".schema.json") for path in SCHEMAS.glob("*.schema.json")}
    assert found == set(ALL_SCHEMAS)


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_example_schema_passes_the_safety_checks(name):
    check_schema_safety(schema_of(name))


@pytest.mark.parametrize("name", DEPARTMENT_SUBJECTS)
def test_department_schema_uses_closed_content_models_only(name):
    assert open_content_models(schema_of(name)) == []


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_each_schema_has_valid_and_invalid_examples(name):
    folder = EXAMPLES / name
    assert list(folder.glob("valid-*.json"))
    assert len(list(folder.glob("invalid-*.json"))) >= 3  # reasons file + at least two


@pytest.mark.parametrize(("name", "path"), examples("valid"), ids=example_id)
def test_valid_example_validates(name, path):
    assert RecordValidator(schema_of(name)).errors_for(load(path)) == []


@pytest.mark.parametrize(("name", "path"), examples("invalid"), ids=example_id)
def test_invalid_example_fails_where_its_reason_says(name, path):
    reason = load(path.parent / "invalid-reasons.json")[path.name]
    issues = RecordValidator(schema_of(name)).errors_for(load(path))
    assert [issue.path for issue in issues] == [reason["path"]], reason["why"]
