"""The pull cursor: an opaque token naming where a subscription may resume.

It is the unpadded base64url of the JCS JSON `{"subscription": id, "offsets": {partition:
next_offset}}`. Acknowledging a cursor commits exactly those offsets for the
subscription's consumer group. The subscription id inside lets the hub refuse a cursor
presented to another subscription. A cursor is not secret: a department could forge one,
but only for its own subscription, where it could as well acknowledge without reading.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from exchange.errors import Conflict, ValidationFailed
from exchange.signing.base64url import decode_base64url, encode_base64url
from exchange.signing.canonical import canonical_json


class MalformedCursor(ValidationFailed):
    """The cursor is not one the hub issued."""

    type_slug = "cursor-malformed"
    title = "Malformed cursor"


class CursorOfAnotherSubscription(Conflict):
    """The cursor was issued by a pull of another subscription."""

    type_slug = "cursor-subscription-mismatch"
    title = "Cursor belongs to another subscription"


@dataclass(frozen=True)
class Cursor:
    """Next offset to read, per partition of the subscription's topic."""

    subscription_id: str
    offsets: Mapping[int, int] = field(default_factory=dict)

    def encode(self) -> str:
        """The opaque text form handed to the consumer."""
        document = {
            "subscription": self.subscription_id,
            "offsets": {str(partition): offset for partition, offset in self.offsets.items()},
        }
        return encode_base64url(canonical_json(document))


def decode_cursor(text: str, subscription_id: str) -> Cursor:
    """Read a cursor presented to `subscription_id`; refuse malformed or foreign ones."""
    cursor = _parse(text)
    if cursor.subscription_id != subscription_id:
        raise CursorOfAnotherSubscription(
            f"this cursor was issued for another subscription, not {subscription_id!r}"
        )
    return cursor


def _parse(text: str) -> Cursor:
    try:
        document = json.loads(decode_base64url(text))
        subscription = document["subscription"]
        offsets = {int(partition): int(offset) for partition, offset in document["offsets"].items()}
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise MalformedCursor("the cursor is not one issued by a pull") from error
    if not isinstance(subscription, str) or any(
        partition < 0 or offset < 0 for partition, offset in offsets.items()
    ):
        raise MalformedCursor("the cursor is not one issued by a pull")
    return Cursor(subscription, offsets)
