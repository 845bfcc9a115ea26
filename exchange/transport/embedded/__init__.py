"""The embedded transport: the log in a SQLite file, for one machine and for tests."""

from exchange.transport.embedded.transport import EmbeddedTransport

__all__ = ["EmbeddedTransport"]
