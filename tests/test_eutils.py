"""The E-utilities client on its own: spacing, back-off, and NCBI's error forms read as errors."""

from __future__ import annotations

import gzip
import random
import ssl
from http import HTTPStatus
import time
import tracemalloc
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from support.fetch_helpers import SEROTONIN_QUERY, make_settings, seed_corpus
from support.standin import EutilsStandin, Fault

from tracker.errors import EutilsError, EutilsQueryError
from tracker.pubmed.client import EutilsClient, RateLimiter, retry_after_s
from tracker.pubmed.replies import parse_esearch
from tracker.pubmed.transport import READ_CHUNK_BYTES, BoundedDecoder, Retryable


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0
        self.sent_at: list[float] = []

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, delay_s: float) -> None:
        self.now_s += delay_s


@pytest.mark.parametrize(("per_second", "limit"), [(3, 3), (10, 10)])
def test_rate_limiter_never_lets_more_than_the_limit_into_one_second(per_second: int, limit: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_second, clock=clock, sleep=clock.sleep)
    sent_at = []
    for _ in range(50):
        limiter.wait()
        sent_at.append(clock.now_s)
    most_in_a_second = max(sum(1 for t in sent_at if start <= t < start + 1.0) for start in sent_at)
    assert most_in_a_second == limit
    assert sent_at[-1] - sent_at[0] == pytest.approx(49 * 1.1 / per_second)


def esearch_body(inner: str) -> bytes:
    return f'<?xml version="1.0" ?><eSearchResult>{inner}</eSearchResult>'.encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (esearch_body("<Count>2</Count><IdList><Id>5</Id><Id>4</Id></IdList><QueryTranslation>q</QueryTranslation>"),
         (2, (5, 4), "q", ())),
        (esearch_body("<Count>0</Count><IdList/><ErrorList><PhraseNotFound>zzqx</PhraseNotFound></ErrorList>"),
         (0, (), None, ("zzqx",))),
    ],
)
def test_esearch_results_are_read(body: bytes, expected: tuple) -> None:
    result = parse_esearch(body)
    assert (result.count, result.pmids, result.query_translation, result.phrase_not_found) == expected


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (esearch_body("<ERROR>Invalid query syntax</ERROR>"), EutilsQueryError),
        (esearch_body("<ERROR>Search Backend failed: Database is not available</ERROR>"), Retryable),
        (b'{"esearchresult": {"ERROR": "Search Backend failed: timeout"}}', Retryable),
        (b'{"esearchresult": {"ERROR": "Invalid term"}}', EutilsQueryError),
        (esearch_body("<Count>0</Count><WarningList><OutputMessage>Search Backend failed: x</OutputMessage>"
                      "</WarningList>"), Retryable),
        (esearch_body("<Count>0</Count><ErrorList><FieldNotFound>tiabx</FieldNotFound></ErrorList>"),
         EutilsQueryError),
        (b'<?xml version="1.0" ?><eSearchResult><Count>12</Count><IdList><Id>1', Retryable),
        (esearch_body("<IdList/>"), Retryable),
        (b'{"error":"API rate limit exceeded","count":"4","limit":"3"}', Retryable),
        # An entity no declaration defines, behind a DTD that is never read: not expanded, not a traceback.
        (b'<?xml version="1.0" ?><!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" "esearch.dtd">'
         b"<eSearchResult><Count>1</Count><QueryTranslation>&undeclared;</QueryTranslation></eSearchResult>",
         Retryable),
    ],
    ids=["error-element", "backend-error", "json-backend", "json-error", "backend-warning", "field-not-found",
         "truncated", "no-count", "rate-limit-json", "undeclared-entity"],
)
def test_error_forms_are_never_zero_results(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_esearch(body)


def test_backoff_grows_with_jitter_and_honours_retry_after(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "http://127.0.0.1:9/", backoff_base_s=1.0, backoff_max_s=60.0)
    client = EutilsClient(settings, rng=random.Random(1))
    delays = [client._backoff_s(attempt, None) for attempt in range(8)]
    for attempt, delay_s in enumerate(delays):
        assert 0.5 * min(60, 2 ** attempt) <= delay_s <= min(60, 2 ** attempt)
    assert client._backoff_s(0, 20.0) >= 20.0
    assert client._backoff_s(0, 600.0) == 60.0  # a Retry-After beyond the ceiling is capped, not obeyed for hours


@pytest.fixture
def server():
    with EutilsStandin(rate_limit=False) as standin:
        seed_corpus(standin, range(1000, 1010), {1000, 1003}, set())
        yield standin


def test_query_errors_are_not_retried(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.fail_next("esearch", Fault.error_element("Invalid query"), times=5)
    with EutilsClient(settings, sleep=lambda _: None) as client:
        with pytest.raises(EutilsQueryError, match="esearch.fcgi: NCBI answered an error: Invalid query"):
            client.esearch(SEROTONIN_QUERY)
        assert client.requests_made == 1


def test_client_errors_are_not_retried_and_name_the_endpoint(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url.replace("/entrez/eutils/", "/eutils-typo/"))
    with EutilsClient(settings, sleep=lambda _: None) as client:
        with pytest.raises(EutilsError, match=r"esearch.fcgi: NCBI answered 404 Not Found; check NCBI_EUTILS_URL"):
            client.esearch(SEROTONIN_QUERY)
        assert client.requests_made == 1


def test_efetch_posts_the_ids_and_returns_the_xml(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    with EutilsClient(settings, sleep=lambda _: None) as client:
        body = client.efetch([1003, 1000, 999])
    assert body.count(b"<PubmedArticle>") == 2
    request = server.requests_to("efetch")[0]
    assert (request.method, request.params["id"], request.query_string) == ("POST", "1003,1000,999", "")


def test_retries_are_bounded_and_logged(tmp_path: Path, server: EutilsStandin,
                                        caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, server.base_url, max_retries=3)
    server.fail_next("esearch", Fault.server_error(502), times=10)
    caplog.set_level("INFO", logger="tracker")
    with EutilsClient(settings, sleep=lambda _: None) as client:
        with pytest.raises(EutilsError, match="NCBI answered 502 Bad Gateway, still after 4 tries"):
            client.esearch(SEROTONIN_QUERY)
        assert client.requests_made == 4
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 3
    assert retries[0].startswith("esearch.fcgi: NCBI answered 502 Bad Gateway; retrying in")


@pytest.mark.parametrize(
    ("header", "expected_s"),
    [("12", 12.0), ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None),
     (None, None)],
)
def test_retry_after_header_forms(header: str | None, expected_s: float | None) -> None:
    response = requests.Response()
    if header is not None:
        response.headers["Retry-After"] = header
    # An HTTP date counts from the injected clock, not the machine's.
    assert retry_after_s(response, datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)) == expected_s


# --- hostile or broken servers: no redirect followed, no hang, no unbounded memory, no entity expanded ---

@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_and_never_followed(tmp_path: Path, server: EutilsStandin, status: int) -> None:
    settings = make_settings(tmp_path, server.base_url)
    # The Location is the stand-in itself, so a followed redirect would show up as a second logged request.
    location = server.base_url.replace("/entrez/eutils/", "/elsewhere/esearch.fcgi") + "?token=abc"
    server.fail_next("esearch", Fault.redirect(status, location), times=5)
    with EutilsClient(settings, sleep=lambda _: None) as client:
        with pytest.raises(EutilsError) as raised:
            client.esearch(SEROTONIN_QUERY)
    message = str(raised.value)
    assert message == (f"esearch.fcgi: NCBI_EUTILS_URL answered {status} "
                       f"{HTTPStatus(status).phrase}, a redirect to "
                       f"{location.split('?')[0]}; redirects are not followed (they would re-send the API key "
                       f"and e-mail): set NCBI_EUTILS_URL to the address that answers directly")
    assert "token" not in message
    assert len(server.requests) == 1


@pytest.mark.parametrize("headers_first", [True, False], ids=["body-trickles", "status-line-trickles"])
def test_a_trickling_reply_is_cut_off_at_the_deadline_and_retried(tmp_path: Path, server: EutilsStandin,
                                                                    headers_first: bool) -> None:
    settings = make_settings(tmp_path, server.base_url, request_deadline_s=0.4, max_retries=1, read_timeout_s=5.0)
    # A byte every 20 ms keeps every read well inside the 5 s read timeout; the whole reply would take minutes.
    server.fail_next("efetch", Fault.trickle(0.02, headers_first=headers_first), times=2)
    started_s = time.monotonic()
    with EutilsClient(settings, sleep=lambda _: None) as client:
        with pytest.raises(EutilsError, match=r"^efetch.fcgi: no complete reply within the 0.4 s deadline "
                                              r"\(TRACKER_REQUEST_DEADLINE_S\), still after 2 tries; NCBI may be busy"):
            client.efetch([1000, 1003])
        assert client.requests_made == 2
    assert time.monotonic() - started_s < 20  # not the minutes the trickle would take


def test_the_deadline_holds_through_a_proxy(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url, request_deadline_s=0.4, max_retries=0)
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"http": server.base_url.split("/entrez/")[0]}  # the stand-in is its own proxy
    server.fail_next("efetch", Fault.trickle(0.02, headers_first=False))
    with EutilsClient(settings, session=session, sleep=lambda _: None) as client:
        with pytest.raises(EutilsError, match=r"^efetch.fcgi: no complete reply within the 0.4 s deadline"):
            client.efetch([1000])
    assert server.requests[0].request_target == server.base_url + "efetch.fcgi"  # the proxy's absolute form


@pytest.mark.parametrize("headers_first", [True, False], ids=["body-trickles", "status-line-trickles"])
def test_the_deadline_holds_over_tls(tmp_path: Path, headers_first: bool) -> None:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    authority_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(authority_file))
    with EutilsStandin(rate_limit=False, tls=server_context) as tls_server:
        seed_corpus(tls_server, range(1000, 1010), {1000, 1003}, set())
        settings = make_settings(tmp_path, tls_server.base_url, request_deadline_s=0.4)
        session = requests.Session()
        session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides verify
        session.verify = str(authority_file)
        tls_server.fail_next("efetch", Fault.trickle(0.02, headers_first=headers_first))
        with EutilsClient(settings, session=session, sleep=lambda _: None) as client:
            body = client.efetch([1000, 1003])  # the trickle is cut off, the retry answers
            assert client.requests_made == 2
        assert tls_server.base_url.startswith("https://")
    assert body.count(b"<PubmedArticle>") == 2


def test_a_trickle_then_a_good_reply_succeeds(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url, request_deadline_s=0.4)
    server.fail_next("efetch", Fault.trickle(0.02))
    with EutilsClient(settings, sleep=lambda _: None) as client:
        body = client.efetch([1000, 1003])
        assert client.requests_made == 2
    assert body.count(b"<PubmedArticle>") == 2


def test_an_endless_reply_stops_at_the_size_cap(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url, max_reply_bytes=1024 * 1024)
    server.fail_next("efetch", Fault.endless(), times=5)
    tracemalloc.start()
    try:
        with EutilsClient(settings, sleep=lambda _: None) as client:
            with pytest.raises(EutilsError) as raised:
                client.efetch([1000])
            assert client.requests_made == 1  # the same request would only get as large a reply again
        peak_bytes = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak_bytes < 8 * 1024 * 1024
    assert str(raised.value) == (
        "efetch.fcgi: the reply passed 1 MiB on the wire, the most the tracker reads (a 10-record PubMed batch is "
        f"far smaller); lower TRACKER_BATCH_SIZE, or check that NCBI_EUTILS_URL ({server.base_url}) is NCBI "
        "E-utilities")


def test_an_endless_search_reply_stops_at_the_size_cap(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url, max_reply_bytes=1024 * 1024)
    server.fail_next("esearch", Fault.endless())
    with EutilsClient(settings, sleep=lambda _: None) as client:
        with pytest.raises(EutilsError, match=r"^esearch.fcgi: the reply passed 1 MiB on the wire, the most the "
                                              r"tracker reads \(a PubMed search reply is well under 1 MiB\); check"):
            client.esearch(SEROTONIN_QUERY)


def test_a_gzip_bomb_stops_at_the_size_cap_after_decoding(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url, max_reply_bytes=1024 * 1024)
    server.fail_next("efetch", Fault.gzip_bomb(64 * 1024 * 1024))
    tracemalloc.start()
    try:
        with EutilsClient(settings, sleep=lambda _: None) as client:
            with pytest.raises(EutilsError, match=r"^efetch.fcgi: the reply passed 1 MiB once gzip-decoded"):
                client.efetch([1000])
        peak_bytes = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak_bytes < 8 * 1024 * 1024


def test_a_gzip_reply_under_the_cap_is_decoded(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.gzip_replies = True
    with EutilsClient(settings, sleep=lambda _: None) as client:
        body = client.efetch([1003, 1000])
        result = client.esearch(SEROTONIN_QUERY, retmax=100)
    assert body.count(b"<PubmedArticle>") == 2
    assert set(result.pmids) == {1000, 1003}
    assert all(request.headers.get("Accept-Encoding") == "gzip, deflate" for request in server.requests)


@pytest.mark.parametrize("external", [False, True], ids=["internal", "external"])
@pytest.mark.parametrize("endpoint", ["esearch", "efetch"])
def test_a_reply_that_declares_an_entity_is_refused(tmp_path: Path, server: EutilsStandin, endpoint: str,
                                                    external: bool) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.fail_next(endpoint, Fault.declared_entity(external=external), times=5)
    with EutilsClient(settings, sleep=lambda _: None) as client:
        with pytest.raises(EutilsError, match=rf"^{endpoint}.fcgi: declares the entity 'leak' in its DTD at line 2; "
                                              r"PubMed XML never does.*check that NCBI_EUTILS_URL points at NCBI"):
            client.esearch(SEROTONIN_QUERY) if endpoint == "esearch" else client.efetch([1000])
        assert client.requests_made == 1


@pytest.mark.parametrize("message", ["Backend failure", "Search Backend failed: Database is not available: pubmed"])
def test_an_efetch_backend_error_is_retried(tmp_path: Path, server: EutilsStandin, message: str) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.fail_next("efetch", Fault.error_element(message), times=2)
    with EutilsClient(settings, sleep=lambda _: None) as client:
        body = client.efetch([1000])
        assert client.requests_made == 3
    assert body.count(b"<PubmedArticle>") == 1


def test_an_efetch_query_error_is_final(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.fail_next("efetch", Fault.error_element("Empty id list - nothing todo"), times=5)
    with EutilsClient(settings, sleep=lambda _: None) as client:
        with pytest.raises(EutilsQueryError, match="efetch.fcgi: NCBI answered an error: Empty id list"):
            client.efetch([1000])
        assert client.requests_made == 1


@pytest.mark.parametrize("pmid_text", ["0", "1" * 30, str(2 ** 63), "-5", "12a", "", "\u0663", "9" * 5000])
def test_an_idlist_entry_that_is_not_a_pmid_is_a_one_line_error(pmid_text: str) -> None:
    body = esearch_body(f"<Count>2</Count><IdList><Id>7</Id><Id>{pmid_text}</Id></IdList>")
    with pytest.raises(EutilsError) as raised:
        parse_esearch(body)
    shown = repr(pmid_text) if len(pmid_text) <= 40 else f"{pmid_text[:40]!r}... (5,000 characters)"
    assert str(raised.value) == (f"esearch.fcgi: IdList holds {shown}, which is not a PMID (a whole number "
                                 f"from 1 to 2^63-1); check that NCBI_EUTILS_URL points at NCBI E-utilities")


def test_the_largest_pmid_sqlite_can_hold_is_read() -> None:
    body = esearch_body(f"<Count>1</Count><IdList><Id> {2 ** 63 - 1} </Id></IdList>")
    assert parse_esearch(body).pmids == (2 ** 63 - 1,)


def _deflate(data: bytes, wbits: int) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


PLAIN = b"<PubmedArticleSet>" + b"<PubmedArticle/>" * 20_000 + b"</PubmedArticleSet>"


@pytest.mark.parametrize(
    ("encoding", "wire"),
    [("identity", PLAIN), ("gzip", gzip.compress(PLAIN)), ("x-gzip", gzip.compress(PLAIN)),
     ("deflate", _deflate(PLAIN, zlib.MAX_WBITS)), ("deflate", _deflate(PLAIN, -zlib.MAX_WBITS)),
     ("gzip", gzip.compress(PLAIN[:1000]) + gzip.compress(PLAIN[1000:]))],
    ids=["identity", "gzip", "x-gzip", "zlib-deflate", "raw-deflate", "two-gzip-members"],
)
def test_bounded_decoder_reads_every_form_in_bounded_pieces(encoding: str, wire: bytes) -> None:
    decoder = BoundedDecoder.for_encoding(encoding, "efetch.fcgi")
    pieces = [piece for start in range(0, len(wire), 4096) for piece in decoder.decode(wire[start:start + 4096])]
    pieces += list(decoder.flush())
    assert b"".join(pieces) == PLAIN
    assert max(len(piece) for piece in pieces) <= max(READ_CHUNK_BYTES, 4096)


def test_bounded_decoder_refuses_a_cut_gzip_stream_and_an_unasked_encoding() -> None:
    decoder = BoundedDecoder.for_encoding("gzip", "efetch.fcgi")
    with pytest.raises(Retryable, match="reply ends inside its gzip data"):
        list(decoder.decode(gzip.compress(PLAIN)[:500]))
        list(decoder.flush())
    with pytest.raises(EutilsError, match=r"^efetch.fcgi: the reply came with Content-Encoding 'br', which the "
                                          r"tracker did not ask for \(gzip, deflate\)"):
        BoundedDecoder.for_encoding("br", "efetch.fcgi")


def test_a_single_try_is_called_one_try(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url, max_retries=0)
    server.fail_next("esearch", Fault.server_error(502))
    with EutilsClient(settings, sleep=lambda _: None) as client:
        with pytest.raises(EutilsError, match=r"NCBI answered 502 Bad Gateway, still after 1 try; "):
            client.esearch(SEROTONIN_QUERY)


# --- what retrying cannot fix fails at once, with its reason -------------------------------------------------------

@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1:99999/entrez/eutils/", "Port out of range 0-65535"),
    ("http://127.0.0.1:port/entrez/eutils/", "Port could not be cast to integer value as 'port'"),
])
def test_a_url_no_request_can_be_sent_to_fails_at_once(tmp_path: Path, url: str, reason: str) -> None:
    settings = make_settings(tmp_path, url)
    delays_s: list[float] = []
    with EutilsClient(settings, sleep=delays_s.append) as client:
        with pytest.raises(EutilsError) as raised:
            client.esearch(SEROTONIN_QUERY)
        assert client.requests_made == 1
    assert delays_s == []
    assert str(raised.value) == (f"esearch.fcgi: no request can be sent to NCBI_EUTILS_URL ({url}): {reason}; "
                                 "fix NCBI_EUTILS_URL")


@pytest.mark.parametrize("fault", [
    Fault.server_error(500, "Request is too long: the query exceeds the maximum length"),
    Fault.server_error(400, "The query is too long"),
    Fault.server_error(414),
    Fault.server_error(413),
])
def test_a_query_too_long_fails_at_once_saying_so(tmp_path: Path, server: EutilsStandin, fault: Fault) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.fail_next("esearch", fault, times=5)
    with EutilsClient(settings, sleep=lambda _: None) as client:
        with pytest.raises(EutilsQueryError) as raised:
            client.esearch(SEROTONIN_QUERY)
        assert client.requests_made == 1
    phrase = HTTPStatus(fault.status).phrase
    said = fault.message or "The server encountered a problem and could not complete your request."
    assert str(raised.value) == (f"esearch.fcgi: NCBI answered {fault.status} {phrase} ({phrase} {said}): the "
                                 "query or request is too long for NCBI; shorten the query")
