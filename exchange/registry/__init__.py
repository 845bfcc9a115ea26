"""The schema registry's rules, free of HTTP and storage.

- `safety`: what a schema must satisfy to be accepted (meta-schema, size, depth, local
  references only, regular expressions RE2 can run).
- `content_model`: the closed-content-model policy for record shapes.
- `differences`, `schema_diff`, `compatibility`: named changes, the one table of which
  are compatible, and the check under a subject's compatibility level.
- `validation`: compiled record validators, cached per (subject, version).
- helpers: `patterns` (RE2, linear-time regular expressions), `references`
  (`exchange:<subject>/versions/<n>`), `schema_walk` (which keywords hold sub-schemas).
"""

from exchange.registry.compatibility import (
    DEFAULT_COMPATIBILITY_LEVEL,
    CompatibilityLevel,
    CompatibilityResult,
    check_compatibility,
    require_compatible,
)
from exchange.registry.content_model import open_content_models, require_closed_content_models
from exchange.registry.differences import BACKWARD_COMPATIBLE, Difference, DifferenceKind
from exchange.registry.safety import check_schema_safety
from exchange.registry.schema_diff import diff
from exchange.registry.validation import RecordValidator, ValidationIssue, ValidatorCache

__all__ = [
    "BACKWARD_COMPATIBLE",
    "DEFAULT_COMPATIBILITY_LEVEL",
    "CompatibilityLevel",
    "CompatibilityResult",
    "Difference",
    "DifferenceKind",
    "RecordValidator",
    "ValidationIssue",
    "ValidatorCache",
    "check_compatibility",
    "check_schema_safety",
    "diff",
    "open_content_models",
    "require_closed_content_models",
    "require_compatible",
]
