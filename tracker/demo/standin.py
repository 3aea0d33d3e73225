"""An NCBI E-utilities stand-in: esearch and efetch for PubMed over real HTTP on 127.0.0.1, with scripted faults.

    with EutilsStandin() as server:
        server.add_corpus(synthetic_corpus(100))
        server.set_query("fibromyalgia AND serotonin", range(10_000_000, 10_000_040))
        server.fail_next("efetch", Fault.server_error(503))
        ...  # point the client at server.base_url
        assert server.peak_requests_per_second() <= 3

It answers in NCBI's shapes (eSearchResult XML or JSON, PubmedArticleSet) including the corners a client must
survive: PubMed's 9,999-record esearch cap, PhraseNotFound, the sliding-window rate limit with its 429 JSON body,
and faults scripted per endpoint (429 with or without Retry-After, 5xx HTML, truncated bodies, <ERROR>, JSON
"ERROR", a "Search Backend failed" warning, slow, trickled or endless replies, gzip bombs, redirects, declared
entities, dropped connections). Every request is logged.
"""

from __future__ import annotations

import calendar
import gzip
import json
import re
import secrets
import ssl
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from tracker.threads import leave_stop_signals_to_main_thread

from .synthetic import pubmed_article_set

ESEARCH_CAP = 9999  # PubMed's esearch serves only the first 9,999 records of a result set
RETSTART_ERROR = (
    "Search Backend failed: Exception:\n'retstart' cannot be larger than 9998. For PubMed, ESearch can only retrieve"
    " the first 9,999 records matching the query. To obtain more than 9,999 PubMed records, consider using EDirect"
    " that contains additional logic to batch PubMed search results automatically so that an arbitrary number can"
    " be retrieved. For details see https://www.ncbi.nlm.nih.gov/books/NBK25499/"
)
BACKEND_FAILED = "Search Backend failed: Database is not available: pubmed"
# NCBI's own DOCTYPE lines, so clients meet the real prolog; no parser here fetches a DTD (the conftest guard would
# fail the test if one tried).
ESEARCH_DOCTYPE = ('<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
                   '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">')
EFETCH_DOCTYPE = ('<!DOCTYPE eFetchResult PUBLIC "-//NLM//DTD efetch 20131226//EN" '
                  '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20131226/efetch.dtd">')
DATE_TYPES = ("edat", "pdat", "mdat", "crdt")
# Field tags a term may use for a date range, mapped to the date they filter on.
TERM_DATE_TAGS = {"edat": "edat", "dp": "pdat", "pdat": "pdat", "mdat": "mdat", "lr": "mdat", "crdt": "crdt"}
_DATE_BOUND = r'"?(\d{4}(?:/\d{1,2}(?:/\d{1,2})?)?)"?'
TERM_DATE_RANGE = re.compile(
    rf"^(?P<base>.+?)\s+AND\s+\(?\s*{_DATE_BOUND}(?:\[\w+\])?\s*:\s*{_DATE_BOUND}\s*\[(?P<tag>\w+)\]\s*\)?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour; build it with the class methods, e.g. `Fault.server_error(502)`."""

    kind: str
    status: int = 200
    retry_after_s: int | None = None
    delay_s: float = 0.0
    message: str = ""
    declared_full_length: bool = False
    size_bytes: int = 0

    @classmethod
    def too_many_requests(cls, retry_after_s: int | None = None) -> Fault:
        """Answer HTTP 429 with NCBI's rate-limit JSON body, with a Retry-After header when retry_after_s is set."""
        return cls("rate_limited", status=429, retry_after_s=retry_after_s)

    @classmethod
    def rate_limit_body(cls, status: int = 200) -> Fault:
        """Answer a 2xx whose body is the rate-limit JSON, as some users report NCBI doing."""
        return cls("rate_limited", status=status)

    @classmethod
    def server_error(cls, status: int = 503, message: str = "") -> Fault:
        """Answer a 4xx or 5xx with an HTML page, like NCBI's front end; `message` replaces its usual text."""
        return cls("server_error", status=status, message=message)

    @classmethod
    def truncated(cls, declared_full_length: bool = False) -> Fault:
        """Send the first half of the normal reply with status 200.

        By default Content-Length matches what is sent, so only an XML check notices; with
        declared_full_length the header promises the whole body and the connection closes early.
        """
        return cls("truncated", declared_full_length=declared_full_length)

    @classmethod
    def error_element(cls, message: str = BACKEND_FAILED) -> Fault:
        """Answer 200 with `<eSearchResult><ERROR>message</ERROR>` (eFetchResult for efetch)."""
        return cls("error_element", message=message)

    @classmethod
    def error_json(cls, message: str = BACKEND_FAILED) -> Fault:
        """Answer 200 with `{"esearchresult": {"ERROR": message}}`."""
        return cls("error_json", message=message)

    @classmethod
    def backend_failed_warning(cls, message: str = BACKEND_FAILED) -> Fault:
        """Answer an eSearchResult with Count 0 and the failure only in its WarningList."""
        return cls("backend_warning", message=message)

    @classmethod
    def slow(cls, delay_s: float) -> Fault:
        """Wait delay_s seconds, then answer normally."""
        return cls("slow", delay_s=delay_s)

    @classmethod
    def dropped(cls) -> Fault:
        """Close the connection without sending a byte."""
        return cls("dropped")

    @classmethod
    def trickle(cls, interval_s: float, *, headers_first: bool = True) -> Fault:
        """Send the normal reply one byte every interval_s seconds, so no single read ever times out.

        With headers_first the status line and headers arrive at once and only the body trickles; without it
        the status line itself trickles too, so a client is stuck before it has any response object.
        """
        return cls("trickle", delay_s=interval_s, declared_full_length=headers_first)

    @classmethod
    def endless(cls) -> Fault:
        """Answer 200 with a chunked XML body that never ends (until the client hangs up)."""
        return cls("endless")

    @classmethod
    def gzip_bomb(cls, decoded_bytes: int) -> Fault:
        """Answer a small `Content-Encoding: gzip` body that decodes to decoded_bytes of one repeated byte."""
        return cls("gzip_bomb", size_bytes=decoded_bytes)

    @classmethod
    def redirect(cls, status: int, location: str) -> Fault:
        """Answer a 3xx whose Location header names another URL (which a client must not follow)."""
        return cls("redirect", status=status, message=location)

    @classmethod
    def declared_entity(cls, *, external: bool = False) -> Fault:
        """Answer an XML reply whose DTD declares an entity (internal, or external naming a local file) used in it.

        For esearch the entity stands in the QueryTranslation; for efetch in an ArticleTitle.
        """
        return cls("declared_entity", declared_full_length=external)


@dataclass
class LoggedRequest:
    """One request as the stand-in received it; `status` is None when the connection was dropped."""

    time_s: float  # time.monotonic() on arrival
    method: str
    path: str
    endpoint: str  # "esearch", "efetch", or the last path segment for anything else
    query_string: str
    params: dict[str, str]  # query string and form body merged; a repeated name keeps its last value
    headers: dict[str, str]
    status: int | None = None
    fault: str | None = None  # the Fault kind applied, "rate_limited" for a real rate-limit refusal
    request_target: str = ""  # as sent: the absolute form "http://host/path?..." when it came through a proxy


@dataclass
class _Record:
    xml: bytes
    edat: date
    pdat: date
    mdat: date
    crdt: date


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "text/xml; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)


def _first_date(pattern: str, xml: str) -> date | None:
    match = re.search(pattern, xml, re.DOTALL)
    if not match:
        return None
    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def record_dates(xml: bytes) -> dict[str, date]:
    """Read crdt, edat, mdat and pdat for the stand-in from a record's History, DateRevised and PubDate.

    crdt is the History "entrez" date; edat is the same unless the record entered PubMed more than a year after
    it was published, when PubMed sets it to the publication date (so an EDAT-only sync misses such records).
    """
    text = xml.decode("utf-8")
    entrez = _first_date(r'PubStatus="entrez"><Year>(\d+)</Year><Month>(\d+)</Month><Day>(\d+)</Day>', text)
    revised = _first_date(r"<DateRevised><Year>(\d+)</Year><Month>(\d+)</Month><Day>(\d+)</Day>", text)
    if entrez is None:
        raise ValueError('record has no History PubMedPubDate PubStatus="entrez": add one or use add_record(...)')
    pdat = _publication_date(text) or entrez  # PubMed gives every record a pdat; lacking a year, the entry date
    edat = pdat if (entrez - pdat).days > 365 else entrez
    return {"edat": edat, "crdt": entrez, "mdat": revised or entrez, "pdat": pdat}


def _publication_date(text: str) -> date | None:
    """Read the first day a PubDate covers: Year/Month/Day, or a MedlineDate's first year and month name."""
    structured = re.search(r"<PubDate><Year>(\d{4})</Year>(?:<Month>(\w+)</Month>)?(?:<Day>(\d{1,2})</Day>)?", text)
    if structured:
        year, month_text, day_text = structured.groups()
    else:
        medline = re.search(r"<MedlineDate>[^<\d]*(\d{4})\s*([A-Za-z]{3})?", text)
        if medline is None:
            return None
        (year, month_text), day_text = medline.groups(), None
    months = [name.lower() for name in calendar.month_abbr]
    if month_text and month_text.isdigit():
        month = int(month_text)
    else:
        month = months.index(month_text.lower()) if month_text and month_text.lower() in months[1:] else 1
    return date(int(year), month, int(day_text) if day_text and month_text else 1)


def _parse_date_bound(text: str, *, end: bool) -> date:
    """Turn "YYYY", "YYYY/MM" or "YYYY/MM/DD" into the first (or, with end, the last) day it covers."""
    match = re.fullmatch(r"(\d{4})(?:/(\d{1,2})(?:/(\d{1,2}))?)?", text.strip())
    if not match:
        raise ValueError(f"Invalid date format: {text!r}")
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else (12 if end else 1)
    if match.group(3):
        return date(year, month, int(match.group(3)))
    return date(year, month, calendar.monthrange(year, month)[1] if end else 1)


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    value = params.get(name, "")
    if value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Invalid {name} value: {value!r}") from None


def _gzip_of_repeated_byte(decoded_bytes: int) -> bytes:
    """Gzip decoded_bytes of one byte a mebibyte at a time, so building a bomb never holds it decoded."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"a" * min(decoded_bytes, 1 << 20)
    parts = []
    remaining = decoded_bytes
    while remaining > 0:
        parts.append(compressor.compress(block[:remaining]))
        remaining -= len(block)
    parts.append(compressor.flush())
    return b"".join(parts)


class EutilsStandin:
    """esearch.fcgi and efetch.fcgi for db=pubmed on 127.0.0.1, in a daemon thread; use as a context manager."""

    def __init__(self, *, rate_limit: bool = True, requests_per_s: int = 3, requests_per_s_with_key: int = 10,
                 history_efetch_cap: int | None = ESEARCH_CAP, retstart_error_status: int = 200,
                 tls: ssl.SSLContext | None = None, esearch_cap: int = ESEARCH_CAP) -> None:
        self.rate_limit = rate_limit
        # The records esearch serves of one result set: PubMed's 9,999, or fewer so that a test crosses it with a
        # few hundred records (give the client the same cap).
        self.esearch_cap = esearch_cap
        # Serve https:// with this server context (e.g. from trustme), as NCBI does, instead of plain http://.
        self.tls = tls
        self.requests_per_s = requests_per_s
        self.requests_per_s_with_key = requests_per_s_with_key
        # Reports disagree on whether efetch pages past 9,999 through the history server; by default it does not,
        # so a client that relies on it gets records missing and its tests can tell.
        self.history_efetch_cap = history_efetch_cap
        # Reports disagree on the status of the retstart error too (200 or 400); the body is the same.
        self.retstart_error_status = retstart_error_status
        self.today = date.today()  # what reldate counts back from
        # What every reply's Date header says it is (NCBI's "now"); None follows this machine's clock. A client whose
        # own clock is wrong can be tested against a server that is right, and the other way round.
        self.server_time: datetime | None = None
        self.send_date = True  # False leaves the Date header out, as an odd proxy might
        # NCBI gzips its replies for a client that accepts it; off by default so tests read bodies as sent.
        self.gzip_replies = False
        self._unrequested_deletions: list[int] = []
        self.requests: list[LoggedRequest] = []
        self.rate_limited_count = 0
        self.hook_errors: list[BaseException] = []
        self.on_request: Callable[[LoggedRequest], Fault | None] | None = None
        self._records: dict[int, _Record] = {}
        self._deleted: set[int] = set()
        self._queries: dict[str, tuple[frozenset[int], str | None]] = {}
        self._history: dict[str, dict[int, list[int]]] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._recent_s: deque[float] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> EutilsStandin:
        """Bind to a free port on 127.0.0.1 and serve in a daemon thread."""
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so a client's Session reuses its connection
            timeout = 30
            # Headers and body go out in two writes; with Nagle on, a small reply waits for the client's delayed ACK.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                standin._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                standin._handle(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (signature of the base class)
                """Stay quiet: tests read `.requests` instead."""

            def send_header(self, keyword: str, value: str) -> None:
                if keyword != "Date" or standin.send_date:
                    super().send_header(keyword, value)

            def date_time_string(self, timestamp: float | None = None) -> str:
                """The Date header: the stand-in's server_time when one is set."""
                if timestamp is None and standin.server_time is not None:
                    timestamp = standin.server_time.timestamp()
                return super().date_time_string(timestamp)

        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._serve, args=(self._server,), name="eutils-standin", daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _serve(server: ThreadingHTTPServer) -> None:
        # The server's thread and the threads it starts for each request leave Ctrl-C and kill to the main thread.
        leave_stop_signals_to_main_thread()
        server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        """Stop serving, cut short any slow reply, and free the port."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> EutilsStandin:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The E-utilities base URL to give the client, ending in "/entrez/eutils/"."""
        if self._server is None:
            raise RuntimeError("EutilsStandin is not running: call start() or use it in a with block")
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls is not None else 'http'}://{host}:{port}/entrez/eutils/"

    # --- the corpus ---

    def add_record(self, pmid: int, xml_bytes: bytes, *, edat: date, pdat: date, mdat: date, crdt: date) -> None:
        """Serve one `<PubmedArticle>` (or `<PubmedBookArticle>`) under pmid, with the dates esearch filters on."""
        with self._lock:
            self._records[pmid] = _Record(xml_bytes, edat=edat, pdat=pdat, mdat=mdat, crdt=crdt)
            self._deleted.discard(pmid)

    def add_corpus(self, records: Mapping[int, bytes]) -> None:
        """Add records such as `synthetic_corpus()` gives, taking each one's dates from its own XML."""
        for pmid, xml_bytes in records.items():
            self.add_record(pmid, xml_bytes, **record_dates(xml_bytes))

    def update_record(self, pmid: int, xml_bytes: bytes, mdat: date) -> None:
        """Replace a record's XML and move its modification date, as a correction or retraction notice does."""
        with self._lock:
            if pmid not in self._records:
                raise KeyError(f"PMID {pmid} is not in the stand-in's corpus: add_record() it first")
            record = self._records[pmid]
            record.xml = xml_bytes
            record.mdat = mdat

    def delete_record(self, pmid: int) -> None:
        """Withdraw a PMID: esearch stops finding it and efetch answers it with a DeleteCitation."""
        with self._lock:
            self._deleted.add(pmid)

    def add_unrequested_deletion(self, pmid: int) -> None:
        """Make every efetch reply also carry a DeleteCitation for pmid, whether it was asked for or not."""
        with self._lock:
            self._unrequested_deletions.append(pmid)

    def set_query(self, term: str, pmids: Iterable[int], translation: str | None = None) -> None:
        """Make esearch answer `term` with these PMIDs (deleted ones left out) and this QueryTranslation."""
        with self._lock:
            self._queries[term.strip()] = (frozenset(pmids), translation)

    # --- faults and observations ---

    def fail_next(self, endpoint: str, fault: Fault, times: int = 1) -> None:
        """Answer the next `times` requests to endpoint ("esearch", "efetch" or "*" for any) with fault."""
        name = endpoint.removesuffix(".fcgi")
        with self._lock:
            self._faults.setdefault(name, deque()).extend([fault] * times)

    def requests_to(self, endpoint: str) -> list[LoggedRequest]:
        """Return the logged requests to one endpoint ("esearch" or "efetch"), oldest first."""
        with self._lock:
            return [request for request in self.requests if request.endpoint == endpoint]

    @property
    def anonymous_requests(self) -> list[LoggedRequest]:
        """Return the requests that came without `tool` or `email` (NCBI answers them, but should not get them)."""
        with self._lock:
            return [request for request in self.requests
                    if not request.params.get("tool") or not request.params.get("email")]

    def peak_requests_per_second(self) -> int:
        """Return the most requests that arrived within any one-second sliding window."""
        with self._lock:
            arrivals_s = sorted(request.time_s for request in self.requests)
        peak = 0
        first = 0
        for last, arrival_s in enumerate(arrivals_s):
            while arrival_s - arrivals_s[first] >= 1.0:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

    # --- HTTP ---

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        arrival_s = time.monotonic()
        target = handler.path
        if re.match(r"^https?://", target):
            # The absolute form a client sends to a proxy (servers must accept it too): the stand-in can be its own
            # proxy, so tests can send requests through one.
            target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
        path, _, query_string = target.partition("?")
        body = b""
        if handler.command == "POST":
            body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        params = {name: values[-1] for name, values in parse_qs(query_string, keep_blank_values=True).items()}
        params.update({name: values[-1] for name, values in
                       parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()})
        endpoint = path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".fcgi")
        entry = LoggedRequest(arrival_s, handler.command, path, endpoint, query_string, params,
                              dict(handler.headers.items()), request_target=handler.path)
        limit = self.requests_per_s_with_key if params.get("api_key") else self.requests_per_s
        with self._lock:
            self.requests.append(entry)
            self._recent_s.append(arrival_s)
            while arrival_s - self._recent_s[0] >= 1.0:
                self._recent_s.popleft()
            in_window = len(self._recent_s)
        rate_headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(0, limit - in_window))}

        fault = None
        if self.on_request is not None:
            try:
                fault = self.on_request(entry)
            except BaseException as error:  # noqa: BLE001 (the test reads it from hook_errors)
                self.hook_errors.append(error)
                fault = Fault.dropped()
        if self.rate_limit and in_window > limit:
            with self._lock:
                self.rate_limited_count += 1
            entry.fault = "rate_limited"
            self._send(handler, entry, self._rate_limit_reply(429, in_window, limit, None), rate_headers)
            return
        if fault is None:
            fault = self._pop_fault(endpoint)
        if fault is not None:
            entry.fault = fault.kind
        if fault is not None and fault.kind == "slow":
            self._stopping.wait(fault.delay_s)
        if fault is not None and fault.kind == "dropped":
            handler.close_connection = True
            return

        if endpoint not in ("esearch", "efetch") or not path.startswith("/entrez/eutils/"):
            reply = self._html_reply(HTTPStatus.NOT_FOUND)
        elif fault is not None and fault.kind not in ("slow", "truncated", "trickle", "endless"):
            reply = self._fault_reply(fault, endpoint, params, in_window, limit)
        else:
            reply = self._esearch(params) if endpoint == "esearch" else self._efetch(params)
        if fault is not None and fault.kind == "truncated":
            self._send_truncated(handler, entry, reply, rate_headers, fault.declared_full_length)
            return
        if fault is not None and fault.kind == "trickle":
            self._send_trickled(handler, entry, reply, fault.delay_s, headers_first=fault.declared_full_length)
            return
        if fault is not None and fault.kind == "endless":
            self._send_endless(handler, entry)
            return
        self._send(handler, entry, reply, rate_headers)

    def _pop_fault(self, endpoint: str) -> Fault | None:
        with self._lock:
            for name in (endpoint, "*"):
                queue = self._faults.get(name)
                if queue:
                    return queue.popleft()
        return None

    def _send(self, handler: BaseHTTPRequestHandler, entry: LoggedRequest, reply: _Reply,
              rate_headers: dict[str, str]) -> None:
        entry.status = reply.status
        if (self.gzip_replies and "Content-Encoding" not in reply.headers
                and "gzip" in handler.headers.get("Accept-Encoding", "")):
            reply = _Reply(reply.status, gzip.compress(reply.body), reply.content_type,
                           {**reply.headers, "Content-Encoding": "gzip"})
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(reply.body)))
        for name, value in {**rate_headers, **reply.headers}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(reply.body)

    @staticmethod
    def _send_truncated(handler: BaseHTTPRequestHandler, entry: LoggedRequest, reply: _Reply,
                        rate_headers: dict[str, str], declared_full_length: bool) -> None:
        entry.status = 200
        cut = reply.body[: len(reply.body) // 2]
        handler.send_response(200)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(reply.body) if declared_full_length else len(cut)))
        for name, value in rate_headers.items():
            handler.send_header(name, value)
        # Say so when closing: a client that reuses the socket would otherwise meet a dead connection next time.
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(cut)
        handler.close_connection = True

    def _send_trickled(self, handler: BaseHTTPRequestHandler, entry: LoggedRequest, reply: _Reply,
                       interval_s: float, *, headers_first: bool) -> None:
        entry.status = reply.status
        head = (f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}\r\n"
                f"Content-Type: {reply.content_type}\r\nContent-Length: {len(reply.body)}\r\n"
                "Connection: close\r\n\r\n").encode()
        handler.close_connection = True
        data = reply.body if headers_first else head + reply.body
        try:
            if headers_first:
                handler.wfile.write(head)
            for position in range(len(data)):
                # time.sleep, not Event.wait: timed lock waits hang under faketime, which the suite runs under.
                time.sleep(interval_s)
                if self._stopping.is_set():
                    return
                handler.wfile.write(data[position:position + 1])
        except OSError:
            return  # the client gave up, as it should

    def _send_endless(self, handler: BaseHTTPRequestHandler, entry: LoggedRequest) -> None:
        entry.status = 200
        handler.send_response(200)
        handler.send_header("Content-Type", "text/xml; charset=UTF-8")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.close_connection = True
        chunk = b"<PubmedArticleSet>" + b"<!-- filler -->" * 4096
        try:
            while not self._stopping.is_set():
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            return

    # --- replies ---

    @staticmethod
    def _rate_limit_reply(status: int, count: int, limit: int, retry_after_s: int | None) -> _Reply:
        body = json.dumps({"error": "API rate limit exceeded", "api-key": "127.0.0.1", "count": str(count),
                           "limit": str(limit)}, separators=(",", ":")).encode()
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else {}
        return _Reply(status, body, "application/json", headers)

    @staticmethod
    def _html_reply(status: int, message: str = "") -> _Reply:
        phrase = HTTPStatus(status).phrase
        text = escape(message) or "The server encountered a problem and could not complete your request."
        body = (f"<!DOCTYPE html>\n<html><head><title>{status} {phrase}</title></head>"
                f"<body><h1>{phrase}</h1><p>{text}</p></body></html>\n").encode()
        return _Reply(status, body, "text/html; charset=UTF-8")

    @staticmethod
    def _error_reply(endpoint: str, message: str, status: int = 200) -> _Reply:
        root = "eFetchResult" if endpoint == "efetch" else "eSearchResult"
        doctype = EFETCH_DOCTYPE if endpoint == "efetch" else ESEARCH_DOCTYPE
        body = (f'<?xml version="1.0" encoding="UTF-8" ?>\n{doctype}\n'
                f"<{root}><ERROR>{escape(message)}</ERROR></{root}>\n").encode()
        return _Reply(status, body)

    @staticmethod
    def _json_error_reply(message: str, status: int = 200) -> _Reply:
        body = json.dumps({"header": {"type": "esearch", "version": "0.3"}, "esearchresult": {"ERROR": message}})
        return _Reply(status, body.encode(), "application/json; charset=UTF-8")

    def _fault_reply(self, fault: Fault, endpoint: str, params: Mapping[str, str], in_window: int,
                     limit: int) -> _Reply:
        if fault.kind == "rate_limited":
            return self._rate_limit_reply(fault.status, max(in_window, limit + 1), limit, fault.retry_after_s)
        if fault.kind == "server_error":
            return self._html_reply(fault.status, fault.message)
        if fault.kind == "error_element":
            return self._error_reply(endpoint, fault.message)
        if fault.kind == "error_json":
            return self._json_error_reply(fault.message)
        if fault.kind == "redirect":
            return _Reply(fault.status, b"", "text/html", {"Location": fault.message})
        if fault.kind == "gzip_bomb":
            return _Reply(200, _gzip_of_repeated_byte(fault.size_bytes), "text/xml; charset=UTF-8",
                          {"Content-Encoding": "gzip"})
        if fault.kind == "declared_entity":
            return self._entity_reply(endpoint, external=fault.declared_full_length)
        if fault.kind == "backend_warning":
            return self._esearch_reply(params, count=0, ids=[], translation=None,
                                       warnings=[fault.message], phrase_not_found=None, history=None)
        raise ValueError(f"unknown fault kind {fault.kind!r}")

    @staticmethod
    def _entity_reply(endpoint: str, *, external: bool) -> _Reply:
        declaration = ('<!ENTITY leak SYSTEM "file:///etc/hostname">' if external
                       else '<!ENTITY leak "expanded-internal-entity">')
        if endpoint == "efetch":
            body = (f'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet [{declaration}]>\n<PubmedArticleSet>'
                    "<PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>&leak;</ArticleTitle>"
                    "</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>\n")
        else:
            body = (f'<?xml version="1.0" ?>\n<!DOCTYPE eSearchResult [{declaration}]>\n<eSearchResult>'
                    "<Count>1</Count><RetMax>1</RetMax><RetStart>0</RetStart><IdList><Id>1</Id></IdList>"
                    "<QueryTranslation>&leak;</QueryTranslation></eSearchResult>\n")
        return _Reply(200, body.encode())

    def _esearch(self, params: Mapping[str, str]) -> _Reply:
        if params.get("db", "") != "pubmed":
            return self._error_reply("esearch", f"Invalid db name specified: {params.get('db', '')}")
        term = params.get("term", "").strip()
        if not term:
            return self._error_reply("esearch", "Empty term and query_key - nothing todo")
        try:
            retstart = _int_param(params, "retstart", 0)
            retmax = _int_param(params, "retmax", 20)
            windows = self._date_windows(params)
            base_term, term_window = self._split_term_window(term)
        except ValueError as error:
            return self._error_reply("esearch", str(error))
        if term_window is not None:
            windows.append(term_window)

        with self._lock:
            query = self._queries.get(base_term)
            if query is None and base_term.startswith("(") and base_term.endswith(")"):
                query = self._queries.get(base_term[1:-1].strip())
            if query is None:
                return self._esearch_reply(params, count=0, ids=[], translation=f"({base_term}[All Fields])",
                                           warnings=["No items found."], phrase_not_found=base_term, history=None)
            pmids, translation = query
            matches = sorted((pmid for pmid in pmids if pmid not in self._deleted
                              and self._in_windows(pmid, windows)), reverse=True)
        translation = translation or base_term
        if term_window is not None:
            translation += term[len(base_term):]
        if retstart > self.esearch_cap - 1:
            return self._error_reply("esearch", RETSTART_ERROR, self.retstart_error_status) \
                if params.get("retmode", "xml") != "json" else \
                self._json_error_reply(RETSTART_ERROR, self.retstart_error_status)
        served = max(0, min(retmax, self.esearch_cap - retstart))
        warnings = []
        if served < retmax and len(matches) > retstart + served:
            warnings.append(f"Restrictions achieved. start and count adjusted to {retstart}, {served}")
        history = self._remember(params.get("WebEnv") or None, matches) if params.get("usehistory") == "y" else None
        return self._esearch_reply(params, count=len(matches), ids=matches[retstart:retstart + served],
                                   translation=translation, warnings=warnings, phrase_not_found=None,
                                   history=history, retstart=retstart)

    def _date_windows(self, params: Mapping[str, str]) -> list[tuple[str, date, date]]:
        date_type = params.get("datetype", "pdat").lower() or "pdat"
        if date_type not in DATE_TYPES:
            raise ValueError(f"Invalid datetype: {date_type!r}")
        if params.get("reldate", "").strip():
            days = _int_param(params, "reldate", 0)
            return [(date_type, self.today - timedelta(days=days), self.today)]
        # NCBI applies a date range only when both ends are given.
        if params.get("mindate", "").strip() and params.get("maxdate", "").strip():
            return [(date_type, _parse_date_bound(params["mindate"], end=False),
                     _parse_date_bound(params["maxdate"], end=True))]
        return []

    @staticmethod
    def _split_term_window(term: str) -> tuple[str, tuple[str, date, date] | None]:
        match = TERM_DATE_RANGE.match(term)
        if not match or match.group("tag").lower() not in TERM_DATE_TAGS:
            return term, None
        window = (TERM_DATE_TAGS[match.group("tag").lower()], _parse_date_bound(match.group(2), end=False),
                  _parse_date_bound(match.group(3), end=True))
        return match.group("base").strip(), window

    def _in_windows(self, pmid: int, windows: list[tuple[str, date, date]]) -> bool:
        if not windows:
            return True
        record = self._records.get(pmid)
        if record is None:
            return False  # a PMID with no record has no dates to match a date range
        return all(first <= getattr(record, date_type) <= last for date_type, first, last in windows)

    def _remember(self, webenv: str | None, pmids: list[int]) -> tuple[str, int]:
        with self._lock:
            if webenv is None or webenv not in self._history:
                webenv = f"MCID_{secrets.token_hex(12)}"
                self._history[webenv] = {}
            queries = self._history[webenv]
            query_key = len(queries) + 1
            queries[query_key] = pmids
        return webenv, query_key

    def expire_history(self) -> None:
        """Forget every WebEnv, as NCBI does after some hours."""
        with self._lock:
            self._history.clear()

    def _esearch_reply(self, params: Mapping[str, str], *, count: int, ids: list[int], translation: str | None,
                       warnings: list[str], phrase_not_found: str | None, history: tuple[str, int] | None,
                       retstart: int = 0) -> _Reply:
        if params.get("retmode") == "json":
            result: dict[str, object] = {"count": str(count), "retmax": str(len(ids)), "retstart": str(retstart)}
            if history is not None:
                result.update(querykey=str(history[1]), webenv=history[0])
            result.update(idlist=[str(pmid) for pmid in ids], translationset=[],
                          querytranslation=translation or "")
            if phrase_not_found is not None:
                result["errorlist"] = {"phrasesnotfound": [phrase_not_found], "fieldsnotfound": []}
            if warnings:
                result["warninglist"] = {"phrasesignored": [], "quotedphrasesnotfound": [],
                                         "outputmessages": warnings}
            body = json.dumps({"header": {"type": "esearch", "version": "0.3"}, "esearchresult": result}, indent=1)
            return _Reply(200, body.encode(), "application/json; charset=UTF-8")
        parts = [f'<?xml version="1.0" encoding="UTF-8" ?>\n{ESEARCH_DOCTYPE}\n<eSearchResult>',
                 f"<Count>{count}</Count><RetMax>{len(ids)}</RetMax><RetStart>{retstart}</RetStart>"]
        if history is not None:
            parts.append(f"<QueryKey>{history[1]}</QueryKey><WebEnv>{history[0]}</WebEnv>")
        parts.append("<IdList>\n" + "".join(f"<Id>{pmid}</Id>\n" for pmid in ids) + "</IdList>" if ids
                     else "<IdList/>")
        parts.append("<TranslationSet/>")
        if translation is not None:
            parts.append(f"<QueryTranslation>{escape(translation)}</QueryTranslation>")
        if phrase_not_found is not None:
            parts.append(f"<ErrorList><PhraseNotFound>{escape(phrase_not_found)}</PhraseNotFound></ErrorList>")
        if warnings:
            parts.append("<WarningList>" + "".join(f"<OutputMessage>{escape(message)}</OutputMessage>"
                                                   for message in warnings) + "</WarningList>")
        parts.append("</eSearchResult>\n")
        return _Reply(200, "".join(parts).encode())

    def _efetch(self, params: Mapping[str, str]) -> _Reply:
        if params.get("db", "") != "pubmed":
            return self._error_reply("efetch", f"Invalid db name specified: {params.get('db', '')}")
        try:
            if params.get("id", "").strip():
                # NCBI drops ids that are not numbers rather than failing the request.
                requested = [int(part) for part in params["id"].split(",") if part.strip().isdigit()]
            elif params.get("WebEnv") and params.get("query_key"):
                requested = self._history_page(params)
            else:
                return self._error_reply("efetch", "Empty id list - nothing todo")
        except LookupError as error:
            return self._error_reply("efetch", str(error.args[0]))
        except ValueError as error:
            return self._error_reply("efetch", str(error))
        articles, deleted = [], []
        with self._lock:
            for pmid in dict.fromkeys(requested):
                if pmid in self._deleted:
                    deleted.append(pmid)
                elif pmid in self._records:
                    articles.append(self._records[pmid].xml)
            deleted += [pmid for pmid in self._unrequested_deletions if pmid not in deleted]
        if deleted:
            articles.append(b"<DeleteCitation>" + b"".join(b'<PMID Version="1">%d</PMID>' % pmid
                                                            for pmid in deleted) + b"</DeleteCitation>")
        return _Reply(200, pubmed_article_set(articles))

    def _history_page(self, params: Mapping[str, str]) -> list[int]:
        query_key = _int_param(params, "query_key", 0)
        with self._lock:
            pmids = self._history.get(params["WebEnv"], {}).get(query_key)
        if pmids is None:
            raise LookupError(f"Unable to obtain query #{query_key}")
        retstart = _int_param(params, "retstart", 0)
        retmax = _int_param(params, "retmax", 20)
        end = retstart + retmax
        if self.history_efetch_cap is not None:
            end = min(end, self.history_efetch_cap)
        return pmids[retstart:end]
