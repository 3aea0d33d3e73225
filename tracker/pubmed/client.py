"""NCBI E-utilities over one `requests.Session`: polite, retrying, and strict about NCBI's error forms.

Every request is a POST to `<NCBI_EUTILS_URL><endpoint>` with tool, email and api_key in the form body, so the key
and the address never sit in a URL that an exception, a proxy log or a traceback could show. A redirect is never
followed (it would re-send that body to wherever `Location` points); every request has a total deadline, so a server
trickling bytes cannot hold the job for ever; and a reply is read as a stream with its size capped, on the wire and
after gzip/deflate decoding, so an endless reply or a gzip bomb costs no more memory than the cap. Replies that
declare XML entities are refused before anything reads them.

This module holds the policy (what to send, what to retry, how long to wait); `transport` the deadline and the
bounded decoding, `replies` the reading of NCBI's answers and their error forms.

    EutilsError          the request failed after its retries (network down, NCBI refusing, 4xx)
    └── EutilsQueryError NCBI answered with an error about the query itself; retrying will not help
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import socket
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from typing import TypeVar

import requests
import urllib3.exceptions

from tracker.config import Settings, redact_url
from tracker.errors import EutilsError, EutilsQueryError
from tracker.pubmed.replies import (EsearchResult, check_efetch, is_rate_limit_body, is_too_long_reply,
                                    parse_esearch, reply_text)
from tracker.pubmed.transport import (ACCEPT_ENCODING, READ_CHUNK_BYTES, BoundedDecoder, Deadline, DeadlineAdapter,
                                      Retryable, Watchdog)
from tracker.wording import counted

# The name log lines have always carried (scheduler logs and -v output are read by it).
log = logging.getLogger("tracker.eutils")

_Reply = TypeVar("_Reply")

# PubMed's esearch cannot page past this many records of one query.
ESEARCH_MAX_RECORDS = 9_999
# Connection refused or no route: a few quick tries, then tell the user, rather than minutes of back-off.
CONNECTION_RETRIES = 3



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
            self._session.mount(prefix, DeadlineAdapter())
        self._sleep = sleep
        self._now = now
        self._watchdog = Watchdog()
        self._rng = rng or random.Random()
        self.rate_limiter = RateLimiter(settings.requests_per_second, sleep=sleep)
        self.request_counts: Counter[str] = Counter()
        # NCBI's own "now", from the Date header of its latest reply: what a sync watermark must never pass, whatever
        # this machine's clock says. None until a reply carries one.
        self.server_now: datetime | None = None

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
        return self._request("esearch.fcgi", params, read=parse_esearch)

    def efetch(self, pmids: Sequence[int]) -> bytes:
        """Fetch PubMed XML for these PMIDs (POSTed, so hundreds of ids never make a URL too long)."""
        params = {"db": "pubmed", "id": ",".join(str(p) for p in pmids), "retmode": "xml"}
        return self._request("efetch.fcgi", params, read=check_efetch)

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
            except Retryable as failure:
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
        with Deadline(deadline_s, self._watchdog) as deadline:
            try:
                # No redirects: following one would POST the API key and e-mail to whatever host Location names.
                response = self._session.post(url, data=form, timeout=timeout, allow_redirects=False, stream=True)
                with response:
                    _refuse_redirect(response, endpoint)
                    body = self._read_body(response, endpoint)
            except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError,
                    Retryable) as error:
                if deadline.expired:
                    raise Retryable(_deadline_reason(deadline_s)) from None
                if isinstance(error, Retryable):
                    raise
                raise self._transport_failure(error, endpoint) from None
            if deadline.expired:
                # The cut-off can also end a reply that has no declared length as if it were complete.
                raise Retryable(_deadline_reason(deadline_s))
        self.server_now = _header_date(response.headers.get("Date")) or self.server_now
        status = response.status_code
        if is_too_long_reply(status, body):
            # The same request would be refused again: say why now rather than after minutes of retries.
            raise EutilsQueryError(f"{endpoint}: NCBI answered {status} {response.reason} ({reply_text(body)}): the "
                                   "query or request is too long for NCBI; shorten the query")
        if status == 429 or is_rate_limit_body(body):
            raise Retryable(f"NCBI's rate limit answered ({status})", retry_after_s(response, self._now()))
        if status >= 500:
            raise Retryable(f"NCBI answered {status} {response.reason}", retry_after_s(response, self._now()))
        if status >= 400:
            raise EutilsError(f"{endpoint}: NCBI answered {status} {response.reason}; "
                              f"check NCBI_EUTILS_URL ({self._settings.eutils_url_display}) and the query")
        return body

    def _transport_failure(self, error: Exception, endpoint: str) -> Retryable:
        if isinstance(error, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                              requests.exceptions.MissingSchema)):
            # Nothing left this machine: no retry can help. requests' own text would show the whole URL, password
            # included, so the reason comes from parsing it again.
            raise EutilsError(f"{endpoint}: no request can be sent to NCBI_EUTILS_URL "
                              f"({self._settings.eutils_url_display}): {_url_problem(self._settings.eutils_url)}; "
                              "fix NCBI_EUTILS_URL") from None
        if isinstance(error, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, socket.timeout)):
            return Retryable(f"no reply within {self._settings.read_timeout_s:g} s")
        if isinstance(error, requests.exceptions.ConnectionError):
            return Retryable(f"cannot connect to {self._settings.eutils_url_display} ({_connection_reason(error)})",
                              connection=True)
        # The connection broke mid-reply (cut short, reset): asking again usually gets the whole of it.
        return Retryable(f"the reply broke off ({type(error).__name__})")

    def _read_body(self, response: requests.Response, endpoint: str) -> bytes:
        """Read the reply as it streams in, refusing it once it passes the cap on the wire or decoded."""
        cap_bytes = self._settings.max_reply_bytes
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower() or "identity"
        decoder = BoundedDecoder.for_encoding(encoding, endpoint)
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


def _advice(failure: Retryable) -> str:
    if failure.connection:
        return "check the network connection (and NCBI_EUTILS_URL), then run `tracker fetch` again"
    return "NCBI may be busy: run `tracker fetch` again later, ideally off-peak (21:00-05:00 US Eastern)"


def _url_problem(url: str) -> str:
    try:
        urllib.parse.urlsplit(url).port
    except ValueError as error:
        return str(error)
    return "requests cannot send to it (check its scheme, host and port)"


def _connection_reason(error: requests.exceptions.ConnectionError) -> str:
    text = str(error)
    for pattern, reason in (("Name or service not known|NameResolution|getaddrinfo", "name not resolved"),
                            ("Connection refused", "connection refused"),
                            ("Network is unreachable", "network unreachable"),
                            ("RemoteDisconnected|Connection aborted|reset by peer", "connection dropped")):
        if re.search(pattern, text):
            return reason
    return type(error).__name__



def retry_after_s(response: requests.Response, now: datetime) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    parsed = _header_date(value)
    return None if parsed is None else max(0.0, (parsed - now).total_seconds())


def _header_date(value: str | None) -> datetime | None:
    """Read an HTTP date (Date, Retry-After); None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # RFC 9110 dates are GMT; an odd server may leave the zone out
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed

