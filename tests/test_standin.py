"""The E-utilities stand-in answers as NCBI does: the shapes, the cap, the rate limit and every scripted fault."""

from __future__ import annotations

import os
import random
import signal
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date

import pytest
import requests

from support.standin import ESEARCH_CAP, RETSTART_ERROR, EutilsStandin, Fault, record_dates
from support.synthetic import DOCTYPE_LINE, pubmed_article_set, synthetic_article_xml, synthetic_corpus
from support.threads import blocked_signals

TERM = "fibromyalgia[mh] AND serotonin[tiab]"
TIMEOUT_S = 10
# pmid: (edat, pdat, mdat, crdt) — one late entry (1001: entered 2021, published 1998) and one recent change (1004).
DATES = {
    1001: (date(1998, 3, 1), date(1998, 1, 1), date(2021, 2, 1), date(2021, 2, 1)),
    1002: (date(2019, 5, 10), date(2019, 1, 1), date(2019, 6, 1), date(2019, 5, 10)),
    1003: (date(2020, 1, 15), date(2020, 1, 1), date(2020, 2, 1), date(2020, 1, 15)),
    1004: (date(2020, 7, 1), date(2020, 1, 1), date(2026, 11, 20), date(2020, 7, 1)),
    1005: (date(2026, 11, 1), date(2026, 1, 1), date(2026, 11, 2), date(2026, 11, 1)),
}


def _record(pmid: int) -> bytes:
    return synthetic_article_xml(pmid, random.Random(pmid), year=DATES[pmid][1].year)


@pytest.fixture
def server() -> Iterator[EutilsStandin]:
    """A stand-in without the rate limit, holding five records that TERM matches."""
    with EutilsStandin(rate_limit=False) as standin:
        standin.today = date(2026, 11, 25)
        for pmid, (edat, pdat, mdat, crdt) in DATES.items():
            standin.add_record(pmid, _record(pmid), edat=edat, pdat=pdat, mdat=mdat, crdt=crdt)
        standin.set_query(TERM, DATES, translation='"fibromyalgia"[MeSH Terms] AND serotonin[tiab]')
        yield standin


def _get(standin: EutilsStandin, endpoint: str, **params: object) -> requests.Response:
    return requests.get(standin.base_url + endpoint, params={"db": "pubmed", **params}, timeout=TIMEOUT_S)


def _post(standin: EutilsStandin, endpoint: str, **params: object) -> requests.Response:
    return requests.post(standin.base_url + endpoint, data={"db": "pubmed", **params}, timeout=TIMEOUT_S)


def _esearch_summary(response: requests.Response) -> dict[str, object]:
    root = ET.fromstring(response.content)
    return {
        "count": int(root.findtext("Count")),
        "retmax": int(root.findtext("RetMax")),
        "retstart": int(root.findtext("RetStart")),
        "ids": [int(element.text) for element in root.iterfind("IdList/Id")],
        "phrases_not_found": [element.text for element in root.iterfind("ErrorList/PhraseNotFound")],
        "warnings": [element.text for element in root.iterfind("WarningList/OutputMessage")],
    }


def _efetch_pmids(content: bytes) -> list[tuple[str, int]]:
    root = ET.fromstring(content)
    return [(element.tag, int(pmid.text)) for element in root
            for pmid in element.iterfind("MedlineCitation/PMID" if element.tag == "PubmedArticle" else "PMID")]


def _summary(count: int, ids: list[int], *, retstart: int = 0, warnings: tuple[str, ...] = (),
             not_found: tuple[str, ...] = ()) -> dict[str, object]:
    return {"count": count, "retmax": len(ids), "retstart": retstart, "ids": ids,
            "phrases_not_found": list(not_found), "warnings": list(warnings)}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, _summary(5, [1005, 1004, 1003, 1002, 1001])),
        ({"retmax": 2, "retstart": 1}, _summary(5, [1004, 1003], retstart=1)),
        ({"retmax": 0}, _summary(5, [])),
        ({"datetype": "edat", "mindate": "2020", "maxdate": "2020/06"}, _summary(1, [1003])),
        ({"datetype": "pdat", "mindate": "2019/01/01", "maxdate": "2020/12/31"}, _summary(3, [1004, 1003, 1002])),
        ({"datetype": "crdt", "mindate": "2021/01/01", "maxdate": "2021/12/31"}, _summary(1, [1001])),
        ({"datetype": "edat", "mindate": "2021/01/01", "maxdate": "2021/12/31"}, _summary(0, [])),
        ({"datetype": "mdat", "reldate": 30}, _summary(2, [1005, 1004])),
        ({"datetype": "edat", "mindate": "2020"}, _summary(5, [1005, 1004, 1003, 1002, 1001])),
        ({"term": f"({TERM}) AND 2019/01/01:2020/01/31[edat]"}, _summary(2, [1003, 1002])),
        ({"term": f"{TERM} AND 2026[dp]:2026[dp]"}, _summary(1, [1005])),
        ({"term": "fibromyalgia AND abcXYZ"},
         _summary(0, [], warnings=("No items found.",), not_found=("fibromyalgia AND abcXYZ",))),
    ],
    ids=["all", "page", "count-only", "edat-year-month", "pdat", "crdt-late-entry", "edat-misses-late-entry",
         "reldate-mdat", "one-sided-range-ignored", "range-in-term", "dp-in-term", "phrase-not-found"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_esearch_answers_the_registered_query(server: EutilsStandin, params: dict, expected: dict,
                                              method: str) -> None:
    send = _get if method == "GET" else _post
    response = send(server, "esearch.fcgi", **{"term": TERM, **params})
    assert (response.status_code, response.headers["Content-Type"]) == (200, "text/xml; charset=UTF-8")
    assert _esearch_summary(response) == expected


def test_esearch_leaves_out_deleted_records_and_gives_history(server: EutilsStandin) -> None:
    server.delete_record(1003)
    root = ET.fromstring(_get(server, "esearch.fcgi", term=TERM, usehistory="y").content)
    assert [child.tag for child in root] == ["Count", "RetMax", "RetStart", "QueryKey", "WebEnv", "IdList",
                                              "TranslationSet", "QueryTranslation"]
    assert (root.findtext("Count"), root.findtext("QueryKey"), root.findtext("QueryTranslation")) == (
        "4", "1", '"fibromyalgia"[MeSH Terms] AND serotonin[tiab]')
    assert root.findtext("WebEnv").startswith("MCID_")
    again = ET.fromstring(_get(server, "esearch.fcgi", term=TERM, usehistory="y",
                               WebEnv=root.findtext("WebEnv")).content)
    assert (again.findtext("WebEnv"), again.findtext("QueryKey")) == (root.findtext("WebEnv"), "2")


def test_esearch_json_has_ncbi_keys(server: EutilsStandin) -> None:
    body = _get(server, "esearch.fcgi", term=TERM, retmode="json", retmax=2, usehistory="y").json()
    result = body["esearchresult"]
    assert body["header"] == {"type": "esearch", "version": "0.3"}
    assert {key: result[key] for key in ("count", "retmax", "retstart", "querykey", "idlist")} == {
        "count": "5", "retmax": "2", "retstart": "0", "querykey": "1", "idlist": ["1005", "1004"]}


@pytest.mark.parametrize(
    ("retstart", "retmax", "expected_ids", "expected_warnings"),
    [
        (0, 10_000, list(range(10_050, 51, -1)), ["Restrictions achieved. start and count adjusted to 0, 9999"]),
        (9990, 100, list(range(60, 51, -1)), ["Restrictions achieved. start and count adjusted to 9990, 9"]),
        (9998, 1, [52], []),
        (0, 3, [10_050, 10_049, 10_048], []),
    ],
)
def test_esearch_serves_only_the_first_9999(retstart: int, retmax: int, expected_ids: list[int],
                                            expected_warnings: list[str]) -> None:
    with EutilsStandin(rate_limit=False) as standin:
        standin.set_query("fibromyalgia", range(1, 10_051))
        summary = _esearch_summary(_get(standin, "esearch.fcgi", term="fibromyalgia", retstart=retstart,
                                        retmax=retmax))
    assert summary == _summary(10_050, expected_ids, retstart=retstart, warnings=tuple(expected_warnings))


@pytest.mark.parametrize(("retmode", "status"), [("xml", 200), ("json", 400)])
def test_esearch_refuses_retstart_past_9998(retmode: str, status: int) -> None:
    with EutilsStandin(rate_limit=False, retstart_error_status=status) as standin:
        standin.set_query("fibromyalgia", range(1, 10_051))
        response = _get(standin, "esearch.fcgi", term="fibromyalgia", retstart=ESEARCH_CAP, retmode=retmode)
    assert response.status_code == status
    if retmode == "json":
        assert response.json() == {"header": {"type": "esearch", "version": "0.3"},
                                   "esearchresult": {"ERROR": RETSTART_ERROR}}
    else:
        root = ET.fromstring(response.content)
        assert (root.tag, root.findtext("ERROR"), root.findtext("Count")) == ("eSearchResult", RETSTART_ERROR, None)


def test_efetch_by_post_keeps_order_drops_unknown_and_reports_deletions(server: EutilsStandin) -> None:
    server.delete_record(1002)
    response = _post(server, "efetch.fcgi", id="1004,999,1001,1002,1004", retmode="xml")
    assert response.status_code == 200
    assert response.content.startswith(b'<?xml version="1.0" ?>\n' + DOCTYPE_LINE.encode())
    assert _efetch_pmids(response.content) == [("PubmedArticle", 1004), ("PubmedArticle", 1001),
                                               ("DeleteCitation", 1002)]


def test_efetch_pages_through_the_history_server(server: EutilsStandin) -> None:
    root = ET.fromstring(_get(server, "esearch.fcgi", term=TERM, usehistory="y", retmax=0).content)
    history = {"WebEnv": root.findtext("WebEnv"), "query_key": root.findtext("QueryKey")}
    pages = [_efetch_pmids(_post(server, "efetch.fcgi", retstart=start, retmax=2, **history).content)
             for start in (0, 2, 4)]
    assert pages == [[("PubmedArticle", 1005), ("PubmedArticle", 1004)],
                     [("PubmedArticle", 1003), ("PubmedArticle", 1002)], [("PubmedArticle", 1001)]]
    server.expire_history()
    expired = ET.fromstring(_post(server, "efetch.fcgi", retmax=2, **history).content)
    assert (expired.tag, expired.findtext("ERROR")) == ("eFetchResult", "Unable to obtain query #1")


def test_update_record_replaces_xml_and_moves_mdat(server: EutilsStandin) -> None:
    corrected = synthetic_article_xml(1002, random.Random(1), year=2019, retracted_in=2000)
    server.update_record(1002, corrected, mdat=date(2026, 11, 24))
    changed = _esearch_summary(_get(server, "esearch.fcgi", term=TERM, datetype="mdat", mindate="2026/11/24",
                                    maxdate="2026/11/25"))
    fetched = _post(server, "efetch.fcgi", id="1002").content
    assert changed["ids"] == [1002]
    assert b'<CommentsCorrections RefType="RetractionIn">' in fetched and corrected in fetched


FAULT_CASES = [
    (Fault.too_many_requests(), 429, "application/json", None,
     {"error": "API rate limit exceeded", "api-key": "127.0.0.1", "count": "4", "limit": "3"}),
    (Fault.too_many_requests(retry_after_s=2), 429, "application/json", "2",
     {"error": "API rate limit exceeded", "api-key": "127.0.0.1", "count": "4", "limit": "3"}),
    (Fault.rate_limit_body(), 200, "application/json", None,
     {"error": "API rate limit exceeded", "api-key": "127.0.0.1", "count": "4", "limit": "3"}),
    (Fault.error_json("Search Backend failed: timeout"), 200, "application/json; charset=UTF-8", None,
     {"header": {"type": "esearch", "version": "0.3"}, "esearchresult": {"ERROR": "Search Backend failed: timeout"}}),
]


@pytest.mark.parametrize(("fault", "status", "content_type", "retry_after", "body"), FAULT_CASES)
def test_json_faults(server: EutilsStandin, fault: Fault, status: int, content_type: str, retry_after: str | None,
                     body: dict) -> None:
    server.fail_next("esearch", fault)
    response = _get(server, "esearch.fcgi", term=TERM)
    assert (response.status_code, response.headers["Content-Type"], response.headers.get("Retry-After"),
            response.json()) == (status, content_type, retry_after, body)
    assert _esearch_summary(_get(server, "esearch.fcgi", term=TERM))["count"] == 5  # only the next request fails


@pytest.mark.parametrize(
    ("endpoint", "fault", "status", "root_tag", "expected_text"),
    [
        ("esearch", Fault.error_element(), 200, "eSearchResult", "Search Backend failed: Database is not available: "
                                                                   "pubmed"),
        ("efetch", Fault.error_element("Internal error"), 200, "eFetchResult", "Internal error"),
        ("esearch", Fault.backend_failed_warning(), 200, "eSearchResult", "Search Backend failed: Database is not "
                                                                            "available: pubmed"),
    ],
)
def test_xml_error_faults(server: EutilsStandin, endpoint: str, fault: Fault, status: int, root_tag: str,
                          expected_text: str) -> None:
    server.fail_next(endpoint, fault)
    response = _post(server, f"{endpoint}.fcgi", term=TERM, id="1001")
    root = ET.fromstring(response.content)
    found = root.findtext("ERROR") or root.findtext("WarningList/OutputMessage")
    assert (response.status_code, root.tag, found, root.findtext("Count")) == (
        status, root_tag, expected_text, "0" if fault.kind == "backend_warning" else None)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_html(server: EutilsStandin, status: int) -> None:
    server.fail_next("*", Fault.server_error(status), times=2)
    responses = [_post(server, "efetch.fcgi", id="1001"), _get(server, "esearch.fcgi", term=TERM)]
    assert [(r.status_code, r.headers["Content-Type"], r.text.startswith("<!DOCTYPE html>")) for r in responses] == [
        (status, "text/html; charset=UTF-8", True)] * 2
    assert [request.fault for request in server.requests] == ["server_error", "server_error"]


def test_truncated_reply_is_status_200_and_not_well_formed(server: EutilsStandin) -> None:
    whole = _post(server, "efetch.fcgi", id="1001,1002").content
    server.fail_next("efetch", Fault.truncated())
    cut = _post(server, "efetch.fcgi", id="1001,1002")
    assert (cut.status_code, cut.content) == (200, whole[: len(whole) // 2])
    with pytest.raises(ET.ParseError):
        ET.fromstring(cut.content)


@pytest.mark.parametrize("fault", [Fault.truncated(declared_full_length=True), Fault.dropped()])
def test_connection_level_faults_raise_in_the_client(server: EutilsStandin, fault: Fault) -> None:
    server.fail_next("efetch", fault)
    with pytest.raises(requests.exceptions.RequestException):
        _post(server, "efetch.fcgi", id="1001").content  # noqa: B018 (reading the body is what fails)
    assert [(request.endpoint, request.fault) for request in server.requests] == [("efetch", fault.kind)]


def test_slow_reply_waits_then_answers(server: EutilsStandin) -> None:
    server.fail_next("esearch", Fault.slow(1.0))
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(server.base_url + "esearch.fcgi", params={"db": "pubmed", "term": TERM}, timeout=0.2)


def test_on_request_hook_can_fail_the_nth_efetch(server: EutilsStandin) -> None:
    def fail_third_efetch(request: object) -> Fault | None:
        return Fault.server_error(502) if len(server.requests_to("efetch")) == 3 else None

    server.on_request = fail_third_efetch
    statuses = [_post(server, "efetch.fcgi", id="1001").status_code for _ in range(4)]
    assert statuses == [200, 200, 502, 200]


def test_hook_that_raises_drops_the_connection_and_is_kept(server: EutilsStandin) -> None:
    server.on_request = lambda request: 1 / 0
    with pytest.raises(requests.exceptions.ConnectionError):
        _post(server, "efetch.fcgi", id="1001")
    assert [type(error) for error in server.hook_errors] == [ZeroDivisionError]


@pytest.mark.parametrize(
    ("identity", "burst", "expected_statuses", "limit"),
    [
        ({}, 5, [200, 200, 200, 429, 429], "3"),
        ({"api_key": "secret"}, 11, [200] * 10 + [429], "10"),
    ],
)
def test_rate_limit_counts_a_sliding_second(eutils_server: EutilsStandin, identity: dict, burst: int,
                                            expected_statuses: list[int], limit: str) -> None:
    eutils_server.set_query(TERM, [1])
    # One keep-alive session, so the whole burst lands well inside one second even on a busy machine.
    with requests.Session() as session:
        responses = [session.get(eutils_server.base_url + "esearch.fcgi", timeout=TIMEOUT_S,
                                 params={"db": "pubmed", "term": TERM, **identity}) for _ in range(burst)]
    assert [response.status_code for response in responses] == expected_statuses
    assert responses[-1].json() == {"error": "API rate limit exceeded", "api-key": "127.0.0.1",
                                    "count": str(burst), "limit": limit}
    assert (responses[-1].headers["X-RateLimit-Limit"], responses[-1].headers["X-RateLimit-Remaining"],
            responses[0].headers["X-RateLimit-Remaining"]) == (limit, "0", str(int(limit) - 1))
    assert (eutils_server.rate_limited_count, eutils_server.peak_requests_per_second()) == (
        expected_statuses.count(429), burst)


def test_requests_are_logged_with_merged_params(eutils_server: EutilsStandin) -> None:
    requests.post(eutils_server.base_url + "efetch.fcgi?tool=tracker", data={"db": "pubmed", "id": "1,2",
                                                                               "email": "me@example.org"},
                  timeout=TIMEOUT_S)
    requests.get(eutils_server.base_url + "esearch.fcgi", params={"db": "pubmed", "term": "x"}, timeout=TIMEOUT_S)
    logged = [(request.method, request.endpoint, request.query_string, request.params, request.status)
              for request in eutils_server.requests]
    assert logged == [
        ("POST", "efetch", "tool=tracker", {"tool": "tracker", "db": "pubmed", "id": "1,2",
                                            "email": "me@example.org"}, 200),
        ("GET", "esearch", "db=pubmed&term=x", {"db": "pubmed", "term": "x"}, 200),
    ]
    assert [request.endpoint for request in eutils_server.anonymous_requests] == ["esearch"]
    assert os.environ["NCBI_EUTILS_URL"] == eutils_server.base_url


def test_synthetic_corpus_is_deterministic_and_well_formed() -> None:
    corpus = synthetic_corpus(40, seed=3, first_pmid=500)
    assert corpus == synthetic_corpus(40, seed=3, first_pmid=500)
    root = ET.fromstring(pubmed_article_set(corpus.values()))
    assert [int(pmid.text) for pmid in root.iterfind("PubmedArticle/MedlineCitation/PMID")] == list(range(500, 540))


def _dated_record(pub_date: str, entrez: str, revised: str | None) -> bytes:
    year, month, day = entrez.split("-")
    revised_xml = ""
    if revised:
        revised_year, revised_month, revised_day = revised.split("-")
        revised_xml = (f"<DateRevised><Year>{revised_year}</Year><Month>{revised_month}</Month>"
                       f"<Day>{revised_day}</Day></DateRevised>")
    return (f"<PubmedArticle><MedlineCitation>{revised_xml}<Article><Journal><JournalIssue>"
            f"<PubDate>{pub_date}</PubDate></JournalIssue></Journal></Article></MedlineCitation><PubmedData>"
            f'<History><PubMedPubDate PubStatus="entrez"><Year>{year}</Year><Month>{month}</Month><Day>{day}</Day>'
            f"<Hour>6</Hour></PubMedPubDate></History></PubmedData></PubmedArticle>").encode()


@pytest.mark.parametrize(
    ("pub_date", "entrez", "revised", "expected"),
    [
        ("<Year>2019</Year><Month>Nov</Month>", "2019-10-02", "2020-01-05",
         {"edat": date(2019, 10, 2), "crdt": date(2019, 10, 2), "mdat": date(2020, 1, 5), "pdat": date(2019, 11, 1)}),
        ("<Year>2003</Year><Month>04</Month><Day>9</Day>", "2025-06-01", None,  # late entry: EDAT falls back
         {"edat": date(2003, 4, 9), "crdt": date(2025, 6, 1), "mdat": date(2025, 6, 1), "pdat": date(2003, 4, 9)}),
        ("<MedlineDate>1998 Dec-1999 Jan</MedlineDate>", "1999-01-20", None,
         {"edat": date(1999, 1, 20), "crdt": date(1999, 1, 20), "mdat": date(1999, 1, 20), "pdat": date(1998, 12, 1)}),
        ("<MedlineDate>Spring 2020</MedlineDate>", "2020-05-01", None,
         {"edat": date(2020, 5, 1), "crdt": date(2020, 5, 1), "mdat": date(2020, 5, 1), "pdat": date(2020, 1, 1)}),
        ("<MedlineDate>n.d.</MedlineDate>", "2011-02-03", None,
         {"edat": date(2011, 2, 3), "crdt": date(2011, 2, 3), "mdat": date(2011, 2, 3), "pdat": date(2011, 2, 3)}),
    ],
)
def test_record_dates_follow_pubmed_rules(pub_date: str, entrez: str, revised: str | None, expected: dict) -> None:
    assert record_dates(_dated_record(pub_date, entrez, revised)) == expected


# --- hostile replies: what a client must refuse rather than follow, wait for, or hold in memory ---

def test_redirect_names_its_location_and_is_not_followed_by_itself(server: EutilsStandin) -> None:
    server.fail_next("esearch", Fault.redirect(307, "http://127.0.0.1:9/elsewhere/esearch.fcgi?token=x"))
    response = requests.post(server.base_url + "esearch.fcgi", data={"db": "pubmed", "term": TERM},
                             allow_redirects=False, timeout=TIMEOUT_S)
    assert (response.status_code, response.headers["Location"]) == (
        307, "http://127.0.0.1:9/elsewhere/esearch.fcgi?token=x")
    assert len(server.requests) == 1


def test_trickle_sends_the_normal_reply_one_byte_at_a_time(server: EutilsStandin) -> None:
    server.fail_next("esearch", Fault.trickle(0.001))
    trickled = _get(server, "esearch.fcgi", term=TERM)
    assert _esearch_summary(trickled) == _esearch_summary(_get(server, "esearch.fcgi", term=TERM))


def test_trickle_of_the_status_line_gives_no_response_until_the_bytes_come(server: EutilsStandin) -> None:
    server.fail_next("esearch", Fault.trickle(0.001, headers_first=False))
    response = _get(server, "esearch.fcgi", term=TERM)
    assert (response.status_code, _esearch_summary(response)["count"]) == (200, 5)


def test_endless_reply_keeps_sending(server: EutilsStandin) -> None:
    server.fail_next("efetch", Fault.endless())
    with requests.post(server.base_url + "efetch.fcgi", data={"db": "pubmed", "id": "1001"}, stream=True,
                       timeout=TIMEOUT_S) as response:
        received = 0
        for chunk in response.iter_content(64 * 1024):
            received += len(chunk)
            if received > 4 * 1024 * 1024:
                break
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert received > 4 * 1024 * 1024


def test_gzip_bomb_is_small_on_the_wire_and_large_decoded(server: EutilsStandin) -> None:
    server.fail_next("efetch", Fault.gzip_bomb(8 * 1024 * 1024))
    response = _post(server, "efetch.fcgi", id="1001")
    assert response.headers["Content-Encoding"] == "gzip"
    assert int(response.headers["Content-Length"]) < 64 * 1024
    assert len(response.content) == 8 * 1024 * 1024


def test_gzip_replies_decode_to_the_plain_reply(server: EutilsStandin) -> None:
    plain = _post(server, "efetch.fcgi", id="1001,1002").content
    server.gzip_replies = True
    response = _post(server, "efetch.fcgi", id="1001,1002")
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.content == plain


@pytest.mark.parametrize("external", [False, True])
def test_declared_entity_reply_declares_and_uses_it(server: EutilsStandin, external: bool) -> None:
    server.fail_next("esearch", Fault.declared_entity(external=external))
    body = _get(server, "esearch.fcgi", term=TERM).content
    assert b"<!ENTITY leak " in body and b"<QueryTranslation>&leak;</QueryTranslation>" in body
    assert (b'SYSTEM "file:///etc/hostname"' in body) == external


def test_unrequested_deletion_is_added_to_every_efetch_reply(server: EutilsStandin) -> None:
    server.add_unrequested_deletion(1005)
    assert _efetch_pmids(_post(server, "efetch.fcgi", id="1001").content) == [
        ("PubmedArticle", 1001), ("DeleteCitation", 1005)]


def test_the_standin_leaves_ctrl_c_and_kill_to_the_main_thread() -> None:
    # A kill of `tracker demo` taken by the stand-in's thread would leave the main thread waiting for the dashboard.
    with EutilsStandin() as server:
        serving = next(thread for thread in threading.enumerate() if thread.name == "eutils-standin")
        assert {signal.SIGINT, signal.SIGTERM} <= blocked_signals(serving.native_id)
        assert requests.get(server.base_url + "einfo.fcgi", timeout=TIMEOUT_S).status_code  # it still serves
    assert not {signal.SIGINT, signal.SIGTERM} & blocked_signals(threading.main_thread().native_id)
