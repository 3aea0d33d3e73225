"""NCBI E-utilities over one `requests.Session`: polite, retrying, and strict about NCBI's error forms.

Every request is a POST to `<NCBI_EUTILS_URL><endpoint>` with tool, email and api_key in the form body, so the key
and the address never sit in a URL that an exception, a proxy log or a traceback could show. A redirect is never
followed (it would re-send that body to wherever `Location` points); every request has a total deadline, so a server
trickling bytes cannot hold the job for ever; and a reply is read as a stream with its size capped, on the wire and
after gzip/deflate decoding, so an endless reply or a gzip bomb costs no more memory than the cap. Replies that
declare XML entities are refused before anything reads them.

    EutilsError          the request failed after its retries (network down, NCBI refusing, 4xx)
    └── EutilsQueryError NCBI answered with an error about the query itself; retrying will not help
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import select
import socket
import threading
import time
import zlib
import xml.etree.ElementTree as ElementTree
import xml.parsers.expat
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeVar

import requests
import requests.adapters
import urllib3
import urllib3.connection
import urllib3.exceptions

from tracker.config import Settings, redact_url
from tracker.errors import EutilsError, EutilsQueryError, ParseError
from tracker.wording import counted
from tracker.pubmed.xmlguard import refuse_entity_declarations

# The name log lines have always carried (scheduler logs and -v output are read by it).
log = logging.getLogger("tracker.eutils")

_Reply = TypeVar("_Reply")

# PubMed's esearch cannot page past this many records of one query.
ESEARCH_MAX_RECORDS = 9_999
# Connection refused or no route: a few quick tries, then tell the user, rather than minutes of back-off.
CONNECTION_RETRIES = 3
# Read replies a piece at a time: small enough that the size cap is checked often, large enough to cost nothing.
READ_CHUNK_BYTES = 64 * 1024
# Only what this module can decode with a bounded decompressor (not br or zstd, which requests may offer).
ACCEPT_ENCODING = "gzip, deflate"
# NCBI's errors that say its backend, not the query, failed: asking again later usually works.
BACKEND_FAILURE = re.compile(r"backend fail|temporarily unavailable|service unavailable|try again later", re.I)


@dataclass(frozen=True)
class EsearchResult:
    """What one esearch call returned."""

    count: int
    pmids: tuple[int, ...]
    query_translation: str | None = None
    webenv: str | None = None
    query_key: str | None = None
    phrase_not_found: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class RateLimiter:
    """Space requests so that no one-second window holds more than NCBI's limit."""

    def __init__(self, requests_per_second: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        # 0.37 s, not 1/3 s (0.11 s, not 0.1 s with a key): NCBI counts requests in its own windows, which do not
        # line up with ours, so a little extra spacing keeps a normal run free of 429s.
        self.interval_s = 1.1 / requests_per_second
        self._clock = clock
        self._sleep = sleep
        self._next_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next request may go out."""
        with self._lock:
            now = self._clock()
            if now < self._next_at:
                self._sleep(self._next_at - now)
                now = self._next_at
            self._next_at = now + self.interval_s


class _Retryable(Exception):
    """A reply worth asking again for; `retry_after_s` is NCBI's own hint when it sent one."""

    def __init__(self, reason: str, retry_after_s: float | None = None, connection: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s
        self.connection = connection


class EutilsClient:
    """A client for esearch and efetch on PubMed; one instance per job, closed when done."""

    def __init__(self, settings: Settings, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 esearch_cap: int = ESEARCH_MAX_RECORDS) -> None:
        self._settings = settings
        # The most records one esearch lists: PubMed's own cap, lower only against a test server that has the same.
        self.esearch_cap = esearch_cap
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = f"{settings.tool} (python-requests)"
        self._session.headers["Accept-Encoding"] = ACCEPT_ENCODING
        for prefix in ("http://", "https://"):
            self._session.mount(prefix, _DeadlineAdapter())
        self._sleep = sleep
        self._now = now
        self._watchdog = _Watchdog()
        self._rng = rng or random.Random()
        self.rate_limiter = RateLimiter(settings.requests_per_second, sleep=sleep)
        self.request_counts: Counter[str] = Counter()

    def __enter__(self) -> EutilsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the session's connections and stop the deadline watchdog."""
        self._session.close()
        self._watchdog.close()

    @property
    def requests_made(self) -> int:
        """HTTP requests sent so far, retries included."""
        return sum(self.request_counts.values())

    # --- the calls --------------------------------------------------------------------------------------------

    def esearch(self, term: str, *, retmax: int = 0, retstart: int = 0, datetype: str | None = None,
                mindate: str | None = None, maxdate: str | None = None, usehistory: bool = False) -> EsearchResult:
        """Search PubMed; dates are "YYYY/MM/DD" and need a `datetype` (edat, pdat, mdat or crdt)."""
        params: dict[str, str] = {"db": "pubmed", "term": term, "retmax": str(retmax), "retstart": str(retstart)}
        if datetype:
            params.update(datetype=datetype, mindate=mindate or "", maxdate=maxdate or "")
        if usehistory:
            params["usehistory"] = "y"
        return self._request("esearch.fcgi", params, read=_parse_esearch)

    def efetch(self, pmids: Sequence[int]) -> bytes:
        """Fetch PubMed XML for these PMIDs (POSTed, so hundreds of ids never make a URL too long)."""
        params = {"db": "pubmed", "id": ",".join(str(p) for p in pmids), "retmode": "xml"}
        return self._request("efetch.fcgi", params, read=_check_efetch)

    # --- transport --------------------------------------------------------------------------------------------

    def _request(self, endpoint: str, params: dict[str, str], read: Callable[[bytes], _Reply]) -> _Reply:
        """POST, retrying what is worth retrying; `read` turns the body into the reply or raises."""
        url = self._settings.eutils_url + endpoint
        form = dict(params, tool=self._settings.tool)
        if self._settings.email:
            form["email"] = self._settings.email
        if self._settings.api_key:
            form["api_key"] = self._settings.api_key
        attempt = 0
        while True:
            self.rate_limiter.wait()
            self.request_counts[endpoint] += 1
            try:
                return read(self._send(url, endpoint, form))
            except _Retryable as failure:
                limit = CONNECTION_RETRIES if failure.connection else self._settings.max_retries
                if attempt >= limit:
                    raise EutilsError(
                        f"{endpoint}: {failure.reason}, still after {counted(attempt + 1, 'try', 'tries')}; "
                        f"{_advice(failure)}") from None
                delay_s = self._backoff_s(attempt, failure.retry_after_s)
                # INFO, not WARNING: a retry that succeeds is routine; the one that fails becomes the error.
                log.info("%s: %s; retrying in %.2f s", endpoint, failure.reason, delay_s)
                self._sleep(delay_s)
                attempt += 1

    def _send(self, url: str, endpoint: str, form: dict[str, str]) -> bytes:
        timeout = (self._settings.connect_timeout_s, self._settings.read_timeout_s)
        deadline_s = self._settings.request_deadline_s
        with _Deadline(deadline_s, self._watchdog) as deadline:
            try:
                # No redirects: following one would POST the API key and e-mail to whatever host Location names.
                response = self._session.post(url, data=form, timeout=timeout, allow_redirects=False, stream=True)
                with response:
                    _refuse_redirect(response, endpoint)
                    body = self._read_body(response, endpoint)
            except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError,
                    _Retryable) as error:
                if deadline.expired:
                    raise _Retryable(_deadline_reason(deadline_s)) from None
                if isinstance(error, _Retryable):
                    raise
                raise self._transport_failure(error) from None
            if deadline.expired:
                # The cut-off can also end a reply that has no declared length as if it were complete.
                raise _Retryable(_deadline_reason(deadline_s))
        status = response.status_code
        if status == 429 or _is_rate_limit_body(body):
            raise _Retryable(f"NCBI's rate limit answered ({status})", _retry_after_s(response, self._now()))
        if status >= 500:
            raise _Retryable(f"NCBI answered {status} {response.reason}", _retry_after_s(response, self._now()))
        if status >= 400:
            raise EutilsError(f"{endpoint}: NCBI answered {status} {response.reason}; "
                              f"check NCBI_EUTILS_URL ({self._settings.eutils_url_display}) and the query")
        return body

    def _transport_failure(self, error: Exception) -> _Retryable:
        if isinstance(error, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, socket.timeout)):
            return _Retryable(f"no reply within {self._settings.read_timeout_s:g} s")
        if isinstance(error, requests.exceptions.ConnectionError):
            return _Retryable(f"cannot connect to {self._settings.eutils_url_display} ({_connection_reason(error)})",
                              connection=True)
        # The connection broke mid-reply (cut short, reset): asking again usually gets the whole of it.
        return _Retryable(f"the reply broke off ({type(error).__name__})")

    def _read_body(self, response: requests.Response, endpoint: str) -> bytes:
        """Read the reply as it streams in, refusing it once it passes the cap on the wire or decoded."""
        cap_bytes = self._settings.max_reply_bytes
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower() or "identity"
        decoder = _BoundedDecoder.for_encoding(encoding, endpoint)
        declared = response.headers.get("Content-Length", "")
        if declared.strip().isdigit() and int(declared) > cap_bytes:
            raise self._too_large(endpoint, cap_bytes, "on the wire")
        wire_bytes = 0

        def decoded_pieces() -> Iterator[bytes]:
            nonlocal wire_bytes
            # decode_content=False: urllib3 only de-chunks; decoding here is what keeps a gzip bomb bounded.
            for chunk in response.raw.stream(READ_CHUNK_BYTES, decode_content=False):
                wire_bytes += len(chunk)
                if wire_bytes > cap_bytes:
                    raise self._too_large(endpoint, cap_bytes, "on the wire")
                yield from decoder.decode(chunk)
            yield from decoder.flush()

        decoded_bytes = 0
        pieces: list[bytes] = []
        for piece in decoded_pieces():
            decoded_bytes += len(piece)
            if decoded_bytes > cap_bytes:
                raise self._too_large(endpoint, cap_bytes, f"once {encoding}-decoded")
            pieces.append(piece)
        return b"".join(pieces)

    def _too_large(self, endpoint: str, cap_bytes: int, where: str) -> EutilsError:
        # Not retried: the same request would get as large a reply again.
        check_url = f"check that NCBI_EUTILS_URL ({self._settings.eutils_url_display}) is NCBI E-utilities"
        if endpoint != "efetch.fcgi":
            return EutilsError(f"{endpoint}: the reply passed {_size_text(cap_bytes)} {where}, the most the tracker "
                               f"reads (a PubMed search reply is well under 1 MiB); {check_url}")
        return EutilsError(
            f"{endpoint}: the reply passed {_size_text(cap_bytes)} {where}, the most the tracker reads "
            f"(a {self._settings.batch_size}-record PubMed batch is far smaller); lower TRACKER_BATCH_SIZE, "
            f"or {check_url}")

    def _backoff_s(self, attempt: int, retry_after_s: float | None) -> float:
        # Exponential with jitter so that many clients, or many retries, do not hit NCBI in step.
        exponential_s = min(self._settings.backoff_max_s, self._settings.backoff_base_s * 2 ** attempt)
        delay_s = exponential_s * (0.5 + self._rng.random() / 2)
        if retry_after_s is not None:
            delay_s = max(delay_s, min(retry_after_s, self._settings.backoff_max_s))
        return delay_s


def _refuse_redirect(response: requests.Response, endpoint: str) -> None:
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location", "")
        target = f"a redirect to {_redact_location(location)}" if location else "a redirect with no Location"
        raise EutilsError(
            f"{endpoint}: NCBI_EUTILS_URL answered {response.status_code} {response.reason}, {target}; "
            "redirects are not followed (they would re-send the API key and e-mail): "
            "set NCBI_EUTILS_URL to the address that answers directly")


def _deadline_reason(deadline_s: float) -> str:
    return f"no complete reply within the {deadline_s:g} s deadline (TRACKER_REQUEST_DEADLINE_S)"


def _redact_location(location: str) -> str:
    # The query string may hold a token or the very key the redirect would have carried; credentials likewise.
    return redact_url(location) if "://" in location else location.split("?", 1)[0].split("#", 1)[0]


def _size_text(size_bytes: int) -> str:
    return f"{size_bytes / 1024 ** 2:g} MiB" if size_bytes >= 1024 ** 2 else f"{size_bytes} bytes"


# --- the total deadline -------------------------------------------------------------------------------------------
# requests' timeouts bound each socket read, not the whole reply: a server sending a byte every few seconds never
# trips them. So a watchdog thread shuts the request's socket down when its deadline passes; the blocked read then
# ends at once, whether it was waiting for the status line, a header or the body. The connection classes below tell
# the deadline which socket is in use; a thread-local carries the current deadline to them, as requests offers no
# per-request hook there.

_current = threading.local()


class _Deadline:
    """A request's total time: once it is up, the socket the request uses is shut down."""

    def __init__(self, seconds: float, watchdog: _Watchdog) -> None:
        self.seconds = seconds
        self.expires_at_s = 0.0
        self.expired = False
        self._watchdog = watchdog
        self._socket: socket.socket | None = None
        self._finished = False
        self._lock = threading.Lock()

    def __enter__(self) -> _Deadline:
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


class _Watchdog:
    """One thread per client that expires the armed deadline when its time comes.

    It waits in select() on a socket pair, not in a timed lock wait (threading.Timer): select's timeout is relative
    and kept by the kernel, so the deadline also holds where the clock is shifted (the suite runs under faketime,
    which leaves timed lock waits hanging).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: _Deadline | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        self._wake_reader, self._wake_writer = socket.socketpair()

    def arm(self, deadline: _Deadline) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the E-utilities client is closed")
            self._armed = deadline
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="eutils-deadline", daemon=True)
                self._thread.start()
        self._wake()

    def disarm(self, deadline: _Deadline) -> None:
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


class _DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, with connections that a `_Deadline` can cut off, direct or through an HTTP(S) proxy."""

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: object) -> urllib3.PoolManager:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools bring connection classes of their own
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


# --- bounded decoding ---------------------------------------------------------------------------------------------

class _BoundedDecoder:
    """Undo gzip or deflate a piece at a time, never more than READ_CHUNK_BYTES out of one call.

    zlib's `max_length` is what keeps a gzip bomb from expanding in one step: the caller counts each piece against
    the cap and stops long before the bomb is unpacked.
    """

    def __init__(self, wbits: int | None) -> None:
        self._wbits = wbits
        self._decompressor = zlib.decompressobj(wbits) if wbits is not None else None
        self._first = True

    @classmethod
    def for_encoding(cls, encoding: str, endpoint: str) -> _BoundedDecoder:
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
                raise _Retryable(f"reply is not valid {self._name} data ({error})") from None
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
            raise _Retryable(f"reply ends inside its {self._name} data")
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


def _advice(failure: _Retryable) -> str:
    if failure.connection:
        return "check the network connection (and NCBI_EUTILS_URL), then run `tracker fetch` again"
    return "NCBI may be busy: run `tracker fetch` again later, ideally off-peak (21:00-05:00 US Eastern)"


def _connection_reason(error: requests.exceptions.ConnectionError) -> str:
    text = str(error)
    for pattern, reason in (("Name or service not known|NameResolution|getaddrinfo", "name not resolved"),
                            ("Connection refused", "connection refused"),
                            ("Network is unreachable", "network unreachable"),
                            ("RemoteDisconnected|Connection aborted|reset by peer", "connection dropped")):
        if re.search(pattern, text):
            return reason
    return type(error).__name__


def _is_rate_limit_body(body: bytes) -> bool:
    # NCBI has been seen to send its rate-limit JSON with a 2xx status: look at the body, not only the status.
    return body[:200].lstrip().startswith(b"{") and b"rate limit exceeded" in body[:200].lower()


def _retry_after_s(response: requests.Response, now: datetime) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:  # RFC 9110 dates are GMT; an odd server may leave the zone out
        parsed = parsed.replace(tzinfo=timezone.utc)
    return max(0.0, (parsed - now).total_seconds())


def _check_xml(body: bytes, endpoint: str) -> None:
    """Refuse declared entities, then check the reply is whole, before anything reads it."""
    try:
        refuse_entity_declarations(body, endpoint, fix="check that NCBI_EUTILS_URL points at NCBI E-utilities")
    except ParseError as error:
        # Not retried: such a reply comes from something other than NCBI, and will come again.
        raise EutilsError(str(error)) from None
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError as error:
        # A body cut short in transit; asking again usually gets the whole of it.
        raise _Retryable(f"reply is not well-formed XML ({error})") from None


def _check_efetch(body: bytes) -> bytes:
    endpoint = "efetch.fcgi"
    if body.lstrip()[:1] == b"{":
        _raise_json_error(body, endpoint)
    _check_xml(body, endpoint)
    head = body[:4096]
    if b"<ERROR>" in head or b"<eFetchResult" in head:
        message = re.search(rb"<ERROR>(.*?)</ERROR>", body, re.S)
        text = message.group(1).decode("utf-8", "replace").strip() if message else "an eFetchResult error"
        if BACKEND_FAILURE.search(text):
            # NCBI's "Backend failure" and the like: the same as from esearch, its trouble and not the ids'.
            raise _Retryable(f"NCBI's backend failed ({text})")
        raise EutilsQueryError(f"{endpoint}: NCBI answered an error: {text}")
    if b"<PubmedArticleSet" not in body:
        raise _Retryable("reply has no PubmedArticleSet")
    return body


def _raise_json_error(body: bytes, endpoint: str) -> None:
    try:
        document = json.loads(body)
    except ValueError:
        raise _Retryable("reply is neither XML nor valid JSON") from None
    if _is_rate_limit_body(body):
        raise _Retryable("NCBI's rate limit answered")
    result = document.get("esearchresult", document) if isinstance(document, dict) else {}
    message = result.get("ERROR") or result.get("error") if isinstance(result, dict) else None
    if message and BACKEND_FAILURE.search(str(message)):
        raise _Retryable(f"NCBI's search backend failed ({message})")
    raise EutilsQueryError(f"{endpoint}: NCBI answered an error: {message or body[:200]!r}")


def _pmid(text: str) -> int:
    """Read one IdList entry; PMIDs are positive and must fit SQLite's 64-bit INTEGER."""
    digits = text.strip()
    # Length first: Python refuses to convert more than 4,300 digits, and no PMID has more than 19.
    if not (0 < len(digits) <= 19 and digits.isascii() and digits.isdigit()) or not 0 < int(digits) < 2 ** 63:
        shown = repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text):,} characters)"
        raise EutilsError(f"esearch.fcgi: IdList holds {shown}, which is not a PMID (a whole number from 1 to "
                          "2^63-1); check that NCBI_EUTILS_URL points at NCBI E-utilities")
    return int(digits)


def _parse_esearch(body: bytes) -> EsearchResult:
    """Read an eSearchResult; NCBI's error forms become exceptions, never "zero results"."""
    if body.lstrip()[:1] == b"{":
        _raise_json_error(body, "esearch.fcgi")
    _check_xml(body, "esearch.fcgi")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        # Well-formed for expat yet not for ElementTree: an entity that no declaration defines.
        raise _Retryable(f"reply is not readable XML ({error})") from None
    errors = [e.text or "" for e in root.iter("ERROR")]
    # The retstart error names the backend too, but it is about the query's paging: retrying cannot help.
    if any(BACKEND_FAILURE.search(e) and "retstart" not in e.lower() for e in errors):
        raise _Retryable(f"NCBI's search backend failed ({errors[0].strip()})")
    if errors:
        raise EutilsQueryError(f"esearch.fcgi: NCBI answered an error: {errors[0].strip()}")
    warnings = tuple((w.text or "").strip() for w in root.iterfind("WarningList/*") if (w.text or "").strip())
    if any(BACKEND_FAILURE.search(w) for w in warnings):
        raise _Retryable(f"NCBI's search backend failed ({warnings[0]})")
    phrases = tuple((p.text or "").strip() for p in root.iterfind("ErrorList/PhraseNotFound"))
    other_errors = [f"{e.tag}: {(e.text or '').strip()}" for e in root.iterfind("ErrorList/*")
                    if e.tag != "PhraseNotFound"]
    if other_errors:
        raise EutilsQueryError(f"esearch.fcgi: NCBI could not run the query: {'; '.join(other_errors)}")
    count_text = root.findtext("Count")
    if count_text is None or not count_text.strip().isdigit():
        raise _Retryable("eSearchResult has no Count")
    pmids = tuple(_pmid(i.text or "") for i in root.iterfind("IdList/Id"))
    if phrases and int(count_text) > 0:
        log.info("esearch: PubMed ignored unknown phrase(s) %s", ", ".join(phrases))
    return EsearchResult(
        count=int(count_text),
        pmids=pmids,
        query_translation=root.findtext("QueryTranslation"),
        webenv=root.findtext("WebEnv"),
        query_key=root.findtext("QueryKey"),
        phrase_not_found=phrases,
        warnings=warnings,
    )
