"""The hub's settings: one typed object, read once at the edge and passed inwards.

Sources, later ones winning: the defaults below, then a TOML file (`config/exchange.toml`
or the file named by `EXCHANGE_CONFIG`), then `EXCHANGE_<KEY>` environment variables.
Unknown keys and bad values fail at start-up with a message that names the key.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from exchange.errors import ConfigurationError

ENV_PREFIX = "EXCHANGE_"
DEFAULT_CONFIG_FILE = Path("config/exchange.toml")
TransportKind = Literal["embedded", "kafka"]
LogFormat = Literal["json", "text"]


@dataclass(frozen=True)
class Settings:
    """Every setting of a hub process. Field names are the keys of the file and of the
    environment (upper-cased, prefixed with `EXCHANGE_`)."""

    data_dir: Path = Path("var")
    database_url: str = ""
    transport: TransportKind = "embedded"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_partitions: int = 3
    topic_replication_factor: int = 1
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    max_request_bytes: int = 10 * 1024 * 1024
    max_batch_records: int = 1000
    signature_window_s: int = 300
    log_level: str = "INFO"
    log_format: LogFormat = "json"
    shutdown_timeout_s: float = 10.0
    workers: int = 1
    threads: int = 8
    audit_checkpoint_every: int = 1000
    audit_checkpoint_seconds: float = 60.0
    # Per signed principal, in `limits` notation ("600/minute"); empty disables limiting.
    rate_limit_per_principal: str = "600/minute"
    # Where the counters live: "memory://" (one process) or "redis://host:6379" (shared).
    rate_limit_storage_url: str = "memory://"
    connector_root: Path = Path("var/connectors")
    connector_lease_s: float = 15.0
    connector_poll_interval_s: float = 0.5
    connector_restart_base_s: float = 1.0
    connector_restart_max_s: float = 300.0
    connector_restart_limit: int = 10
    # Whether `/metrics` answers unsigned requests (a scraper on a private network);
    # otherwise only a signed operator (admin or auditor) may read it. See docs/adr/0009.
    metrics_public: bool = False

    def __post_init__(self) -> None:
        for key, check in _VALUE_CHECKS.items():
            value = getattr(self, key)
            problem = check(value)
            if problem:
                shown = "" if key in _MAY_HOLD_SECRETS else f", got {value!r}"
                raise ConfigurationError(f"setting {key!r}: {problem}{shown}")
        if self.connector_restart_max_s < self.connector_restart_base_s:
            raise ConfigurationError(
                "setting 'connector_restart_max_s': must not be below connector_restart_base_s"
            )

    @property
    def effective_database_url(self) -> str:
        """The store URL: the configured one, or a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'exchange.db').resolve()}"

    @property
    def embedded_transport_path(self) -> Path:
        """Where the embedded transport keeps its log."""
        return self.data_dir / "transport.db"

    @property
    def keys_dir(self) -> Path:
        """Where `exchange init` writes the hub's and the first administrator's keys."""
        return self.data_dir / "keys"

    @property
    def hub_key_file(self) -> Path:
        """The hub's own Ed25519 signing key (PKCS#8 PEM, mode 0600)."""
        return self.keys_dir / "hub.pem"


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


# Checks of a field's value once its type is right: each returns what is wrong, or None.
ValueCheck = Callable[[Any], str | None]


def _at_least(minimum: float) -> ValueCheck:
    return lambda value: None if value >= minimum else f"must be at least {minimum}"


def _positive(value: float) -> str | None:
    # A zero interval or timeout would spin or never wait at all.
    return None if value > 0 else "must be greater than 0"


def _port(value: int) -> str | None:
    return None if 1 <= value <= 65535 else "must be a port number between 1 and 65535"


def _not_blank(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def _log_level(value: str) -> str | None:
    if value.upper() in logging.getLevelNamesMapping():
        return None
    return "must be a logging level name (DEBUG, INFO, WARNING, ERROR, CRITICAL)"


def _http_url(value: str) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    return "must be an absolute http(s) URL"


def _bootstrap_servers(value: str) -> str | None:
    servers = value.split(",")
    return None if all(server.strip() for server in servers) else "must list host:port pairs"


def _database_url(value: str) -> str | None:
    if not value:
        return None
    # Imported only when a URL is set: the client-side commands stay light.
    from sqlalchemy.engine import make_url  # noqa: PLC0415
    from sqlalchemy.exc import ArgumentError  # noqa: PLC0415

    try:
        make_url(value)
    except (ArgumentError, ValueError):  # a malformed port is a ValueError
        return "must be a SQLAlchemy URL such as postgresql+psycopg://user:pw@host/db"
    return None


def _rate_limit(value: str) -> str | None:
    if not value:
        return None
    import limits  # noqa: PLC0415 (as above)

    try:
        limits.parse_many(value)
    except ValueError:
        return "must be a `limits` rate such as 600/minute (or empty for none)"
    return None


def _limits_storage(value: str) -> str | None:
    # The registry `limits.storage.storage_from_string` looks schemes up in (calling that
    # would build a storage, and a memory storage starts a thread).
    from limits.storage import SCHEMES  # type: ignore[attr-defined]  # noqa: PLC0415

    scheme = value.split("://", 1)[0] if "://" in value else ""
    # flask-limiter uses the synchronous storages; the async ones are for asyncio code.
    if scheme in SCHEMES and not scheme.startswith("async+"):
        return None
    return "must be a `limits` storage URL such as memory:// or redis://host:6379"


# URLs that may carry a password: their value is never repeated in an error message.
_MAY_HOLD_SECRETS = frozenset({"database_url", "rate_limit_storage_url"})

_VALUE_CHECKS: dict[str, ValueCheck] = {
    "database_url": _database_url,
    "kafka_bootstrap_servers": _bootstrap_servers,
    "topic_partitions": _at_least(1),
    "topic_replication_factor": _at_least(1),
    "host": _not_blank,
    "port": _port,
    "public_url": _http_url,
    "max_request_bytes": _at_least(1),
    "max_batch_records": _at_least(1),
    "signature_window_s": _at_least(1),
    "log_level": _log_level,
    "workers": _at_least(1),
    "threads": _at_least(1),
    "audit_checkpoint_every": _at_least(1),
    "audit_checkpoint_seconds": _positive,
    "rate_limit_per_principal": _rate_limit,
    "rate_limit_storage_url": _limits_storage,
    "connector_lease_s": _positive,
    "connector_poll_interval_s": _positive,
    "connector_restart_base_s": _positive,
    "connector_restart_max_s": _positive,
}


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from defaults, the config file, the environment and `overrides`."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    path = config_file or _config_file_from(env)
    if path is not None:
        raw.update(_read_file(path))
    raw.update(_read_environment(env))
    raw.update(overrides or {})
    return Settings(**{key: _coerce(key, value) for key, value in raw.items()})


def _config_file_from(env: Mapping[str, str]) -> Path | None:
    named = env.get(ENV_PREFIX + "CONFIG")
    if named:
        if not Path(named).is_file():
            raise ConfigurationError(f"EXCHANGE_CONFIG names {named!r}, which is not a file")
        return Path(named)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        content = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(f"cannot read config file {path}: {error}") from error
    for key in content:
        if key not in _FIELDS:
            raise ConfigurationError(f"unknown setting {key!r} in {path}")
    return content


def _read_environment(env: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key in _CLIENT_SIDE_VARIABLES:
            continue
        if key not in _FIELDS:
            raise ConfigurationError(f"unknown setting {name} in the environment")
        found[key] = value
    return found


# Variables read by the CLI and the client, not by the hub itself.
_CLIENT_SIDE_VARIABLES = frozenset({"key_file", "url", "test_database_url"})


def _coerce(key: str, value: Any) -> Any:
    if key not in _FIELDS:
        raise ConfigurationError(f"unknown setting {key!r}")
    annotation = _FIELDS[key].type
    try:
        return _coerce_to(annotation, value)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"setting {key!r}: {error}") from error


def _coerce_to(annotation: Any, value: Any) -> Any:
    kind = _resolve(annotation)
    if kind is bool:
        return _to_bool(value)
    if kind in (int, float):
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        number = kind(value)
        if number < 0:
            raise ValueError(f"must not be negative, got {value!r}")
        return number
    if kind is Path:
        return Path(value)
    if isinstance(kind, tuple):
        if value not in kind:
            raise ValueError(f"must be one of {', '.join(kind)}, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _resolve(annotation: Any) -> Any:
    names = {"int": int, "float": float, "str": str, "bool": bool, "Path": Path}
    if annotation in names:
        return names[annotation]
    literals = {"TransportKind": TransportKind, "LogFormat": LogFormat}
    if annotation in literals:
        return get_args(literals[annotation])
    return annotation


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected a boolean, got {value!r}")
