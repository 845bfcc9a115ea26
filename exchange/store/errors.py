"""Error kinds of the store."""

from __future__ import annotations

from exchange.errors import ServiceUnavailable


class StoreUnavailable(ServiceUnavailable):
    """The database cannot be reached or is too busy to answer; retrying later may work."""

    status = 503
    type_slug = "store-unavailable"
    title = "Store unavailable"
