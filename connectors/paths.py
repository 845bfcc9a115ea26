"""Path safety: every directory or file a connector's configuration names lies under the
configured connector root. `..`, absolute paths elsewhere and symbolic links that lead out
of the root are refused."""

from __future__ import annotations

from pathlib import Path, PurePath

from exchange.errors import ValidationFailed


class UnsafePath(ValidationFailed):
    type_slug = "unsafe-path"
    title = "Path outside the connector root"


def resolve_under(root: Path, path: str) -> Path:
    """`path` (relative to `root`, or absolute inside it) resolved with every symbolic link
    followed; raises `UnsafePath` unless the result lies under `root`."""
    if ".." in PurePath(path).parts:
        raise UnsafePath(f"{path!r} contains '..'")
    real_root = root.resolve()
    candidate = Path(path) if Path(path).is_absolute() else real_root / path
    resolved = candidate.resolve()
    if resolved != real_root and not resolved.is_relative_to(real_root):
        raise UnsafePath(f"{path!r} leads to {resolved}, outside the connector root {real_root}")
    return resolved


def path_errors(root: Path, paths: dict[str, str | None]) -> dict[str, list[str]]:
    """Messages, by field name, for those of `paths` that are unsafe (None: not given)."""
    errors: dict[str, list[str]] = {}
    for field_name, path in paths.items():
        if path is None:
            continue
        try:
            resolve_under(root, path)
        except UnsafePath as error:
            errors[field_name] = [error.detail]
    return errors
