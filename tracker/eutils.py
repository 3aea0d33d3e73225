"""NCBI E-utilities over one `requests.Session`: polite, retrying, and strict about NCBI's error forms.

Every request is a POST to `<NCBI_EUTILS_URL><endpoint>` with tool, email and api_key in the form body, so the key
and the address never sit in a URL that an exception, a proxy log or a traceback could show.

    EutilsError          the request failed after its retries (network down, NCBI refusing, 4xx)
    └── EutilsQueryError NCBI answered with an error about the query itself; retrying will not help
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
import xml.etree.ElementTree as ElementTree
import xml.parsers.expat
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeVar

import requests

from tracker.config import Settings
from tracker.errors import EutilsError, EutilsQueryError

log = logging.getLogger(__name__)

_Reply = TypeVar("_Reply")

# PubMed's esearch cannot page past this many records of one query.
ESEARCH_MAX_RECORDS = 9_999
# Connection refused or no route: a few quick tries, then tell the user, rather than minutes of back-off.
CONNECTION_RETRIES = 3


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
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> None:
        self._settings = settings
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = f"{settings.tool} (python-requests)"
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.rate_limiter = RateLimiter(settings.requests_per_second, sleep=sleep)
        self.request_counts: Counter[str] = Counter()

    def __enter__(self) -> EutilsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the session's connections."""
        self._session.close()

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
                        f"{endpoint}: {failure.reason}, still after {attempt + 1} tries; "
                        f"{_advice(failure)}") from None
                delay_s = self._backoff_s(attempt, failure.retry_after_s)
                # INFO, not WARNING: a retry that succeeds is routine; the one that fails becomes the error.
                log.info("%s: %s; retrying in %.2f s", endpoint, failure.reason, delay_s)
                self._sleep(delay_s)
                attempt += 1

    def _send(self, url: str, endpoint: str, form: dict[str, str]) -> bytes:
        timeout = (self._settings.connect_timeout_s, self._settings.read_timeout_s)
        try:
            response = self._session.post(url, data=form, timeout=timeout)
            body = response.content
        except requests.exceptions.Timeout:
            raise _Retryable(f"no reply within {self._settings.read_timeout_s:g} s") from None
        except requests.exceptions.ConnectionError as error:
            raise _Retryable(f"cannot connect to {self._settings.eutils_url} ({_connection_reason(error)})",
                             connection=True) from None
        except requests.exceptions.RequestException as error:
            raise _Retryable(f"request failed ({type(error).__name__})") from None
        status = response.status_code
        if status == 429 or _is_rate_limit_body(body):
            raise _Retryable(f"NCBI's rate limit answered ({status})", _retry_after_s(response))
        if status >= 500:
            raise _Retryable(f"NCBI answered {status} {response.reason}", _retry_after_s(response))
        if status >= 400:
            raise EutilsError(f"{endpoint}: NCBI answered {status} {response.reason}; "
                              f"check NCBI_EUTILS_URL ({self._settings.eutils_url}) and the query")
        return body

    def _backoff_s(self, attempt: int, retry_after_s: float | None) -> float:
        # Exponential with jitter so that many clients, or many retries, do not hit NCBI in step.
        exponential_s = min(self._settings.backoff_max_s, self._settings.backoff_base_s * 2 ** attempt)
        delay_s = exponential_s * (0.5 + self._rng.random() / 2)
        if retry_after_s is not None:
            delay_s = max(delay_s, min(retry_after_s, self._settings.backoff_max_s))
        return delay_s


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


def _retry_after_s(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (parsed - datetime.now(timezone.utc)).total_seconds())


def _check_well_formed(body: bytes) -> None:
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
    _check_well_formed(body)
    head = body[:4096]
    if b"<ERROR>" in head or b"<eFetchResult" in head:
        message = re.search(rb"<ERROR>(.*?)</ERROR>", body, re.S)
        text = message.group(1).decode("utf-8", "replace").strip() if message else "an eFetchResult error"
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
    if message and "backend failed" in str(message).lower():
        raise _Retryable(f"NCBI's search backend failed ({message})")
    raise EutilsQueryError(f"{endpoint}: NCBI answered an error: {message or body[:200]!r}")


def _parse_esearch(body: bytes) -> EsearchResult:
    """Read an eSearchResult; NCBI's error forms become exceptions, never "zero results"."""
    if body.lstrip()[:1] == b"{":
        _raise_json_error(body, "esearch.fcgi")
    _check_well_formed(body)
    root = ElementTree.fromstring(body)
    errors = [e.text or "" for e in root.iter("ERROR")]
    if any("backend failed" in e.lower() and "retstart" not in e.lower() for e in errors):
        raise _Retryable(f"NCBI's search backend failed ({errors[0].strip()})")
    if errors:
        raise EutilsQueryError(f"esearch.fcgi: NCBI answered an error: {errors[0].strip()}")
    warnings = tuple((w.text or "").strip() for w in root.iterfind("WarningList/*") if (w.text or "").strip())
    if any("backend failed" in w.lower() for w in warnings):
        raise _Retryable(f"NCBI's search backend failed ({warnings[0]})")
    phrases = tuple((p.text or "").strip() for p in root.iterfind("ErrorList/PhraseNotFound"))
    other_errors = [f"{e.tag}: {(e.text or '').strip()}" for e in root.iterfind("ErrorList/*")
                    if e.tag != "PhraseNotFound"]
    if other_errors:
        raise EutilsQueryError(f"esearch.fcgi: NCBI could not run the query: {'; '.join(other_errors)}")
    count_text = root.findtext("Count")
    if count_text is None or not count_text.strip().isdigit():
        raise _Retryable("eSearchResult has no Count")
    pmids = tuple(int(i.text) for i in root.iterfind("IdList/Id") if i.text and i.text.strip().isdigit())
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
