import socket

import pytest


def test_guard_refuses_a_non_loopback_address() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(AssertionError, match="reach the network"):
            sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed, refused before any packet leaves


def test_guard_allows_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
