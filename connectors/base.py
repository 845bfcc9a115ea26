"""The connector interfaces: what a connector class implements, and what the runtime
(`exchange connect`) gives it.

A *connector class* (`ConnectorClass`) names a source and/or a sink implementation and
their configuration schemas. Built-in classes live in this package (`file`, `sql`,
`http`); a department adds its own as a plugin: an entry point in the group
`exchange.connectors` whose value is a `ConnectorClass`.

Sources (department system -> hub). The runtime calls `poll()` repeatedly. Each
`SourceBatch` names a *partition* of the source (a file, a table) and the *offset* to store
for it once the batch is safely published. The runtime publishes the batch's records with
the batch's `idempotency_key` (so re-publishing the same batch after a crash produces
nothing twice), sends its dead letters to the connector's dead-letter topic, stores the
offset, and only then calls `committed()`. After a restart, `poll()` must resume from the
stored offsets (`SourceContext.offset`) and build the same batches again, with the same
keys, for anything not yet committed.

Sinks (hub -> department system). The runtime pulls deliveries (hub-signed, already
verified) and calls `put()`, then acknowledges them. A delivery may come again (after a
crash before the acknowledgement), so `put()` must be idempotent by `record_id`. `put()`
returns the deliveries it can never write (with the reason; they go to the dead-letter
topic) and raises for anything that may succeed later (everything is then redelivered).
When a pull brings nothing, the runtime calls `on_idle()` instead: a sink that finishes
work by time (a file segment due for rotation, a buffer to flush) does it there, since no
`put()` may come for a long while. Every delivery `put()` wrote before is acknowledged by
then. The default does nothing.

Implementations run on one thread of a worker; they must not block for long in one call
(a batch at a time), so pausing and stopping stay responsive.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from marshmallow import Schema, fields, validate

from connectors.paths import path_errors

MAX_BATCH_SIZE = 1000


class ConnectorConfig(Schema):
    """Settings every connector has; each class's schema extends this one."""

    key_file = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1024),
        metadata={"description": "The department's private key, under the connector root"},
    )
    errors_tolerance = fields.String(
        data_key="errors.tolerance",
        load_default="none",
        validate=validate.OneOf(["none", "all"]),
        metadata={"description": "none: fail on a bad record; all: dead-letter it, go on"},
    )
    batch_size = fields.Integer(
        load_default=100, validate=validate.Range(min=1, max=MAX_BATCH_SIZE)
    )


class SinkConfig(ConnectorConfig):
    """Settings every sink has."""

    start = fields.String(
        data_key="from",
        load_default="earliest",
        validate=validate.OneOf(["earliest", "latest"]),
        metadata={"description": "Where the sink's subscription starts reading"},
    )


@dataclass(frozen=True)
class ConnectorEnvironment:
    """What the hub knows about where connectors run: the one directory tree that file
    paths in their configuration may name."""

    root: Path


@dataclass(frozen=True)
class SourceRecord:
    """A record read from a department system; `key` None lets the subject's key field
    name it. `position` says where it came from (file and line, row id...); `original` is
    the bytes it was read from (a CSV or JSON Lines line), which a dead letter carries if
    the hub refuses the record (None: the payload's JSON stands in for them)."""

    payload: Any
    position: Mapping[str, Any]
    key: str | None = None
    original: bytes | None = None


@dataclass(frozen=True)
class DeadLetter:
    """A record that cannot be published or delivered: why, its original bytes, and where
    it came from."""

    reason: str
    original: bytes
    position: Mapping[str, Any]


@dataclass(frozen=True)
class SourceBatch:
    """Records to publish together, and the offset of `partition` once they are."""

    partition: str
    offset: Any
    idempotency_key: str
    records: Sequence[SourceRecord] = ()
    dead_letters: Sequence[DeadLetter] = ()
    # True when the partition is finished: the runtime forgets its offset after `committed`.
    last: bool = False
    # Stored before publishing, when the batch could not be rebuilt from the previous offset
    # alone (a table that grows): it pins the batch's extent, so a restart rebuilds exactly
    # this batch and its idempotency key replays it.
    intent: Any = None


@dataclass(frozen=True)
class RejectedDelivery:
    """A delivery a sink can never write, and why."""

    delivery: Mapping[str, Any]
    reason: str


class SourceContext(Protocol):
    """What the runtime offers a source."""

    @property
    def name(self) -> str:
        """The connector's name."""
        ...

    @property
    def subject(self) -> str:
        """The subject it publishes."""
        ...

    @property
    def environment(self) -> ConnectorEnvironment:
        """Where file paths must lie."""
        ...

    def offset(self, partition: str) -> Any:
        """The stored offset of `partition`, or None."""
        ...

    def schema(self) -> Mapping[str, Any]:
        """The JSON Schema of the subject's latest version (fetched from the hub)."""
        ...


class SinkContext(Protocol):
    """What the runtime offers a sink."""

    def sign_request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, str]:
        """RFC 9421 signature headers of a request, signed with the hub's key (for sinks
        that call department systems, which verify it against `/v1/hub/keys`)."""
        ...

    @property
    def name(self) -> str:
        """The connector's name."""
        ...

    @property
    def subject(self) -> str:
        """The subject it receives."""
        ...

    @property
    def environment(self) -> ConnectorEnvironment:
        """Where file paths must lie."""
        ...


class Configurable:
    """The configuration side of a connector implementation."""

    config_schema: ClassVar[type[Schema]] = ConnectorConfig

    @classmethod
    def check_config(
        cls, config: Mapping[str, Any], environment: ConnectorEnvironment
    ) -> dict[str, list[str]]:
        """Checks beyond the schema (paths under the root...): messages by field name.
        Subclasses add their own to these."""
        return path_errors(environment.root, {"key_file": config.get("key_file")})


class SourceConnector(Configurable, ABC):
    """Reads records from a department system."""

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        self.config = config
        self.context = context

    @abstractmethod
    def poll(self) -> SourceBatch | None:
        """The next batch, or None when there is nothing new now."""

    def committed(self, batch: SourceBatch, dead_letters: Sequence[DeadLetter]) -> None:
        """`batch` is published and its offset stored; `dead_letters` are all of its records
        that went to the dead-letter topic (its own and those the hub refused)."""

    def lag(self) -> int | None:
        """How much is waiting to be read (files, rows), if the source can tell."""
        return None

    def close(self) -> None:
        """Release what the source holds (files, connections)."""


class SinkConnector(Configurable, ABC):
    """Writes deliveries into a department system."""

    def __init__(self, config: Mapping[str, Any], context: SinkContext) -> None:
        self.config = config
        self.context = context

    @abstractmethod
    def put(self, deliveries: Sequence[Mapping[str, Any]]) -> list[RejectedDelivery]:
        """Write `deliveries` durably (idempotent by `record_id`); return those that can
        never be written. Raise for a failure that may pass (all are redelivered)."""

    def on_idle(self) -> None:
        """A pull brought nothing (everything written so far is acknowledged): finish
        time-bound work now. Raise as `put()` does."""

    def close(self) -> None:
        """Release what the sink holds."""


@dataclass(frozen=True)
class ConnectorClass:
    """A named connector class: its source and/or sink implementation."""

    name: str
    description: str
    source: type[SourceConnector] | None = None
    sink: type[SinkConnector] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
