"""References from one schema to a version of another registered subject.

Such a reference is written `exchange:<subject>/versions/<n>` (optionally followed by a
`#` fragment). It names an immutable version, so it always means the same schema, and the
registry resolves it from its own store: nothing is ever fetched over the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SUBJECT_REFERENCE_SCHEME = "exchange:"
_SUBJECT_REFERENCE = re.compile(
    r"exchange:(?P<subject>[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*)"
    r"/versions/(?P<version>[1-9][0-9]{0,8})(?:#.*)?",
    re.ASCII | re.DOTALL,
)

IsRegistered = Callable[[str, int], bool]
"""Answers whether the registry holds version `n` of `subject`."""

LoadSchema = Callable[[str, int], Mapping[str, Any]]
"""Returns the schema of version `n` of `subject` (raising if there is none)."""


@dataclass(frozen=True)
class SubjectReference:
    """A pinned reference to one version of a registered subject."""

    subject: str
    version: int

    @property
    def uri(self) -> str:
        """The reference's URI without fragment: the base its own `#` references use."""
        return f"{SUBJECT_REFERENCE_SCHEME}{self.subject}/versions/{self.version}"


def parse_subject_reference(reference: str) -> SubjectReference | None:
    """The subject version `reference` names, or None if it is not a subject reference."""
    match = _SUBJECT_REFERENCE.fullmatch(reference)
    if match is None:
        return None
    return SubjectReference(match["subject"], int(match["version"]))
