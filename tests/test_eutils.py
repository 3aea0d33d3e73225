"""The E-utilities client on its own: spacing, back-off, and NCBI's error forms read as errors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fetch_helpers import SEROTONIN_QUERY, make_settings, seed_corpus
from standin import EutilsStandin, Fault

from tracker.errors import EutilsError, EutilsQueryError
from tracker.eutils import EutilsClient, RateLimiter, _parse_esearch, _Retryable


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
    result = _parse_esearch(body)
    assert (result.count, result.pmids, result.query_translation, result.phrase_not_found) == expected


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (esearch_body("<ERROR>Invalid query syntax</ERROR>"), EutilsQueryError),
        (esearch_body("<ERROR>Search Backend failed: Database is not available</ERROR>"), _Retryable),
        (b'{"esearchresult": {"ERROR": "Search Backend failed: timeout"}}', _Retryable),
        (b'{"esearchresult": {"ERROR": "Invalid term"}}', EutilsQueryError),
        (esearch_body("<Count>0</Count><WarningList><OutputMessage>Search Backend failed: x</OutputMessage>"
                      "</WarningList>"), _Retryable),
        (esearch_body("<Count>0</Count><ErrorList><FieldNotFound>tiabx</FieldNotFound></ErrorList>"),
         EutilsQueryError),
        (b'<?xml version="1.0" ?><eSearchResult><Count>12</Count><IdList><Id>1', _Retryable),
        (esearch_body("<IdList/>"), _Retryable),
        (b'{"error":"API rate limit exceeded","count":"4","limit":"3"}', _Retryable),
    ],
    ids=["error-element", "backend-error", "json-backend", "json-error", "backend-warning", "field-not-found",
         "truncated", "no-count", "rate-limit-json"],
)
def test_error_forms_are_never_zero_results(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        _parse_esearch(body)


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
    [("12", 12.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None), (None, None)],
)
def test_retry_after_header_forms(header: str | None, expected_s: float | None) -> None:
    import requests

    from tracker.eutils import _retry_after_s

    response = requests.Response()
    if header is not None:
        response.headers["Retry-After"] = header
    assert _retry_after_s(response) == expected_s
