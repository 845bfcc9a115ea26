"""Regular expressions run by RE2, an engine whose matching time is linear in the input.

JSON Schema `pattern`s come from departments, and a backtracking engine (Python's `re`)
can spend exponential time on a pattern such as `^(a+)+$`. RE2 never backtracks, so no
pattern it accepts can stall the hub; patterns it cannot run (backreferences, lookaround)
are refused when the schema is registered. RE2's `\\d`, `\\w` and `$` also follow
ECMA-262, the dialect JSON Schema specifies, more closely than `re` does.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

import re2  # type: ignore[import-untyped]

# RE2 compiles a pattern into an automaton; this bounds the memory (hence the size) of it.
_MAX_PROGRAM_BYTES = 1 << 20
_CACHED_PATTERNS = 4096


class PatternNotSupportedError(ValueError):
    """RE2 cannot compile the pattern (unsupported syntax, or too big)."""


class CompiledPattern(Protocol):
    """The part of an RE2 regular expression the registry uses."""

    def search(self, text: str) -> Any:
        """A match object if the pattern matches anywhere in `text`, else None."""


def _options() -> Any:
    options = re2.Options()
    options.max_mem = _MAX_PROGRAM_BYTES
    options.log_errors = False
    return options


@functools.lru_cache(maxsize=_CACHED_PATTERNS)
def compile_pattern(pattern: str) -> CompiledPattern:
    """Compile `pattern` with RE2, or raise `PatternNotSupportedError` saying why."""
    try:
        compiled: CompiledPattern = re2.compile(pattern, _options())
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternNotSupportedError(str(reason)) from error
    return compiled


def pattern_matches(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text` (JSON Schema's unanchored semantics)."""
    return compile_pattern(pattern).search(text) is not None
