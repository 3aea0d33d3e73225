"""The E-utilities client's transport: a total deadline on every request, and bounded decoding of the reply.

requests' own timeouts bound each socket read; `Deadline` bounds the whole request, so a server trickling bytes
cannot hold a job for ever. `BoundedDecoder` undoes gzip or deflate a piece at a time, so a gzip bomb costs no more
memory than the client's size cap. `Retryable` is what both raise (and the reply checks too) when asking again is
worth it; the client decides how often.
"""

from __future__ import annotations

import select
import socket
import threading
import time
import zlib
from collections.abc import Iterator

import requests.adapters
import urllib3
import urllib3.connection

from tracker.errors import EutilsError

# Read replies a piece at a time: small enough that the size cap is checked often, large enough to cost nothing.
READ_CHUNK_BYTES = 64 * 1024
# Only what this module can decode with a bounded decompressor (not br or zstd, which requests may offer).
ACCEPT_ENCODING = "gzip, deflate"


class Retryable(Exception):
    """A reply worth asking again for; `retry_after_s` is NCBI's own hint when it sent one."""

    def __init__(self, reason: str, retry_after_s: float | None = None, connection: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s
        self.connection = connection


# --- the total deadline -------------------------------------------------------------------------------------------
# requests' timeouts bound each socket read, not the whole reply: a server sending a byte every few seconds never
# trips them. So a watchdog thread shuts the request's socket down when its deadline passes; the blocked read then
# ends at once, whether it was waiting for the status line, a header or the body. The connection classes below tell
# the deadline which socket is in use; a thread-local carries the current deadline to them, as requests offers no
# per-request hook there.

_current = threading.local()


class Deadline:
    """A request's total time: once it is up, the socket the request uses is shut down."""

    def __init__(self, seconds: float, watchdog: Watchdog) -> None:
        self.seconds = seconds
        self.expires_at_s = 0.0
        self.expired = False
        self._watchdog = watchdog
        self._socket: socket.socket | None = None
        self._finished = False
        self._lock = threading.Lock()

    def __enter__(self) -> Deadline:
        self.expires_at_s = time.monotonic() + self.seconds
        _current.deadline = self
        self._watchdog.arm(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._finished = True
        self._watchdog.disarm(self)
        _current.deadline = None

    def watch(self, sock: socket.socket | None) -> None:
        """Note the socket the request now reads from (shut at once if the deadline already passed)."""
        with self._lock:
            self._socket = sock
            if self.expired:
                _shut(sock)

    def expire(self) -> None:
        """Called by the watchdog when the time is up."""
        with self._lock:
            if self._finished:
                return
            self.expired = True
            _shut(self._socket)


class Watchdog:
    """One thread per client that expires the armed deadline when its time comes.

    It waits in select() on a socket pair, not in a timed lock wait (threading.Timer): select's timeout is relative
    and kept by the kernel, so the deadline also holds where the clock is shifted (the suite runs under faketime,
    which leaves timed lock waits hanging).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: Deadline | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        self._wake_reader, self._wake_writer = socket.socketpair()

    def arm(self, deadline: Deadline) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the E-utilities client is closed")
            self._armed = deadline
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="eutils-deadline", daemon=True)
                self._thread.start()
        self._wake()

    def disarm(self, deadline: Deadline) -> None:
        # No wake-up needed: the thread finds nothing armed when its wait ends and goes back to waiting.
        with self._lock:
            if self._armed is deadline:
                self._armed = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake()
        if thread is not None:
            thread.join()
        self._wake_reader.close()
        self._wake_writer.close()

    def _wake(self) -> None:
        try:
            self._wake_writer.send(b"!")
        except OSError:
            pass  # closed, or already full of wake-ups: the thread is awake either way

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                armed = self._armed
            wait_s = None if armed is None else armed.expires_at_s - time.monotonic()
            if wait_s is not None and wait_s <= 0:
                armed.expire()  # type: ignore[union-attr]
                self.disarm(armed)  # type: ignore[arg-type]
                continue
            readable, _, _ = select.select([self._wake_reader], [], [], wait_s)
            if readable:
                self._wake_reader.recv(4096)


def _shut(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        # The plain socket's shutdown, even for TLS: it ends the blocked read without touching the TLS state that
        # the reading thread owns.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _watch_connection(connection: urllib3.connection.HTTPConnection) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(connection.sock)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch_connection(self)

    def request(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        _watch_connection(self)  # a kept-alive connection is not connected again
        super().request(*args, **kwargs)  # type: ignore[arg-type]


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch_connection(self)

    def request(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        _watch_connection(self)
        super().request(*args, **kwargs)  # type: ignore[arg-type]


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, with connections that a `Deadline` can cut off, direct or through an HTTP(S) proxy."""

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: object) -> urllib3.PoolManager:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools bring connection classes of their own
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


# --- bounded decoding ---------------------------------------------------------------------------------------------

class BoundedDecoder:
    """Undo gzip or deflate a piece at a time, never more than READ_CHUNK_BYTES out of one call.

    zlib's `max_length` is what keeps a gzip bomb from expanding in one step: the caller counts each piece against
    the cap and stops long before the bomb is unpacked.
    """

    def __init__(self, wbits: int | None) -> None:
        self._wbits = wbits
        self._decompressor = zlib.decompressobj(wbits) if wbits is not None else None
        self._first = True

    @classmethod
    def for_encoding(cls, encoding: str, endpoint: str) -> BoundedDecoder:
        if encoding == "identity":
            return cls(None)
        if encoding in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return cls(zlib.MAX_WBITS)  # zlib-wrapped, as RFC 9110 says; a raw stream is detected on the first piece
        raise EutilsError(f"{endpoint}: the reply came with Content-Encoding {encoding!r}, which the tracker did not "
                          f"ask for ({ACCEPT_ENCODING}); check NCBI_EUTILS_URL")

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield the decoded pieces of one chunk off the wire."""
        if self._decompressor is None:
            if data:
                yield data
            return
        try:
            yield from self._decompress(data)
        except zlib.error as error:
            if not (self._first and self._wbits == zlib.MAX_WBITS):
                raise Retryable(f"reply is not valid {self._name} data ({error})") from None
            # Some servers send raw deflate under "deflate" (urllib3 accepts both): start again as raw.
            self._wbits = -zlib.MAX_WBITS
            self._decompressor = zlib.decompressobj(self._wbits)
            yield from self.decode(data)
        self._first = False

    def flush(self) -> Iterator[bytes]:
        """Yield what the decompressor still holds once the wire is done."""
        if self._decompressor is None:
            return
        if not self._decompressor.eof and not self._first:
            raise Retryable(f"reply ends inside its {self._name} data")
        yield from self._decompress(b"")

    @property
    def _name(self) -> str:
        return "gzip" if self._wbits == 16 + zlib.MAX_WBITS else "deflate"

    def _decompress(self, data: bytes) -> Iterator[bytes]:
        assert self._decompressor is not None
        pending = data
        while True:
            piece = self._decompressor.decompress(pending, READ_CHUNK_BYTES)
            if piece:
                yield piece
            pending = self._decompressor.unconsumed_tail
            if self._decompressor.eof and self._decompressor.unused_data and self._name == "gzip":
                # A second gzip member follows the first (allowed by RFC 1952): decode it as well.
                pending = self._decompressor.unused_data
                self._decompressor = zlib.decompressobj(self._wbits)
                continue
            # A full piece may leave output inside zlib even when all input is taken: ask again until it runs dry.
            if not pending and (len(piece) < READ_CHUNK_BYTES or self._decompressor.eof):
                return
