"""Which partition a keyed message goes to: Kafka's default partitioner.

Both transports use it, so a key lands in the same partition number whether the hub
runs on the embedded log or on Kafka.
"""

from __future__ import annotations

from kafka.partitioner.default import murmur2

_POSITIVE = 0x7FFFFFFF


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition (0 .. partitions-1) for `key`, as Kafka's Java and Python clients choose it."""
    if partitions < 1:
        raise ValueError(f"a topic has at least one partition, not {partitions}")
    return int(murmur2(key) & _POSITIVE) % partitions
