"""Compatibility levels of a subject, and the check a new schema version must pass.

The levels mean what they mean in Confluent Schema Registry. BACKWARD: a reader using the
new schema can read data written with the previous one, i.e. every document the previous
schema accepts, the new one accepts too. FORWARD: the previous schema can read data
written with the new one (the same check, schemas swapped). FULL: both. Plain levels
compare with the latest previous version only; `_TRANSITIVE` levels with every one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from exchange.registry.differences import Difference
from exchange.registry.errors import IncompatibleSchema
from exchange.registry.schema_diff import diff


class CompatibilityLevel(StrEnum):
    """How a subject's new schema versions must relate to its earlier ones."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        """Whether every earlier version is checked, not only the latest."""
        return self.value.endswith("_TRANSITIVE")

    @property
    def checks_backward(self) -> bool:
        """Whether the new schema must read data written with earlier ones."""
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def checks_forward(self) -> bool:
        """Whether earlier schemas must read data written with the new one."""
        return self.value.startswith(("FORWARD", "FULL"))


DEFAULT_COMPATIBILITY_LEVEL = CompatibilityLevel.BACKWARD


@dataclass(frozen=True)
class CompatibilityResult:
    """The verdict, with every incompatible difference found (empty when compatible)."""

    compatible: bool
    incompatibilities: list[Difference] = field(default_factory=list)


def check_compatibility(
    level: CompatibilityLevel,
    new: Mapping[str, Any] | bool,
    previous_versions: Sequence[Mapping[str, Any] | bool],
) -> CompatibilityResult:
    """Check `new` against `previous_versions` (oldest first) under `level`."""
    if level is CompatibilityLevel.NONE or not previous_versions:
        return CompatibilityResult(compatible=True)
    count = len(previous_versions)
    positions = range(count) if level.transitive else range(count - 1, count)
    found: list[Difference] = []
    for position in positions:
        previous = previous_versions[position]
        # With one version (a subject's first, or a pair judged with `against_version`)
        # "version 1 of 1" would misname it.
        label = (
            "the previous version" if count == 1 else f"previous version {position + 1} of {count}"
        )
        if level.checks_backward:
            found += _incompatible(diff(previous, new), f"new schema reading {label}'s data")
        if level.checks_forward:
            found += _incompatible(diff(new, previous), f"{label} reading the new schema's data")
    return CompatibilityResult(compatible=not found, incompatibilities=found)


def _incompatible(differences: list[Difference], direction: str) -> list[Difference]:
    return [
        Difference(difference.kind, difference.path, f"{difference.detail} ({direction})")
        for difference in differences
        if not difference.backward_compatible
    ]


def require_compatible(
    level: CompatibilityLevel,
    new: Mapping[str, Any] | bool,
    previous_versions: Sequence[Mapping[str, Any] | bool],
) -> None:
    """Raise `IncompatibleSchema` (409) naming each incompatible kind and path."""
    result = check_compatibility(level, new, previous_versions)
    if result.compatible:
        return
    first = result.incompatibilities[0]
    raise IncompatibleSchema(
        f"{len(result.incompatibilities)} incompatible change(s) under {level.value}; "
        f"first: {first.kind.value} at {first.path!r}",
        level=level.value,
        incompatibilities=[
            {"kind": item.kind.value, "path": item.path, "detail": item.detail}
            for item in result.incompatibilities
        ],
    )
