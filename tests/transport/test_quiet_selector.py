"""The producer's selector answers `get_key` exactly as the standard one does, only
without building a message from the socket's repr."""

from __future__ import annotations

import selectors
import socket

import pytest

from exchange.transport.kafka.producer import QuietSelector


def test_a_registered_socket_has_its_key_and_an_unknown_one_is_a_key_error():
    left, right = socket.socketpair()
    selector = QuietSelector()
    try:
        registered = selector.register(left, selectors.EVENT_READ, "data")
        assert selector.get_key(left) == registered
        assert selector.get_key(left.fileno()) == registered
        with pytest.raises(KeyError):
            selector.get_key(right)
        selector.unregister(left)
        with pytest.raises(KeyError):
            selector.get_key(left)
    finally:
        selector.close()
        left.close()
        right.close()


def test_a_closed_selector_refuses_as_the_standard_one_does():
    selector = QuietSelector()
    selector.close()
    with pytest.raises(RuntimeError, match="closed"):
        selector.get_key(0)
