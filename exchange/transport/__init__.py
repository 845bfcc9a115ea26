"""The transport: an append-only partitioned log with consumer groups (DESIGN section 5).

`base` is the contract; `embedded` (SQLite, one machine) and `kafka` (Apache Kafka)
implement it; `open_transport` picks one from configuration values.
"""

from exchange.transport.base import (
    Acknowledged,
    Consumer,
    GroupReader,
    Headers,
    Message,
    OutgoingMessage,
    PartitionNotAssignedError,
    Producer,
    StartPosition,
    TopicPartition,
    Transport,
    TransportError,
    UnknownTopicError,
)
from exchange.transport.factory import open_transport

__all__ = [
    "Acknowledged",
    "Consumer",
    "GroupReader",
    "Headers",
    "Message",
    "OutgoingMessage",
    "PartitionNotAssignedError",
    "Producer",
    "StartPosition",
    "TopicPartition",
    "Transport",
    "TransportError",
    "UnknownTopicError",
    "open_transport",
]
