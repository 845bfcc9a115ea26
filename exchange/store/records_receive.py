"""Plain values of receiving the repositories return: subscriptions and the latest-record view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

SubscriptionStart = Literal["earliest", "latest"]


@dataclass(frozen=True)
class SubscriptionRow:
    """A department's subscription to a subject under one grant; `id` names its consumer
    group (`exchange.subscription.<id>`)."""

    id: str
    department: str
    subject: str
    grant_id: str
    start: SubscriptionStart
    created_at: datetime


@dataclass(frozen=True)
class LatestRecordRow:
    """The newest record of one key of a subject, as read from the subject's topic.

    `envelope` is the envelope's JSON text as the hub signed it; `log_partition` and
    `log_offset` say where it was read, so an older read never replaces a newer one.
    """

    subject: str
    key: str
    record_id: str
    envelope: str
    log_partition: int
    log_offset: int
    updated_at: datetime
