"""E-utilities replies read strictly: NCBI's error forms become exceptions, never "zero results".

esearch bodies are parsed here into `EsearchResult`; efetch bodies are checked (no declared entities, well-formed,
a PubmedArticleSet, no <ERROR>) before the parser reads them. The well-formedness check is a second pass over the
bytes, but an expat pass that builds nothing: 14% of the time of the parse that follows on a 300-record batch
(bench/bench_parse.py). It is kept because it is what lets the client retry a reply cut short in transit, with
the rest of its retry policy, instead of the fetch job meeting a truncated batch as a parse error.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ElementTree
import xml.parsers.expat
from dataclasses import dataclass

from tracker.errors import EutilsError, EutilsQueryError, ParseError
from tracker.pubmed.text import pmid_number
from tracker.pubmed.transport import Retryable
from tracker.pubmed.xmlguard import refuse_entity_declarations

# The name log lines have always carried (scheduler logs and -v output are read by it).
log = logging.getLogger("tracker.eutils")

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


def is_rate_limit_body(body: bytes) -> bool:
    # NCBI has been seen to send its rate-limit JSON with a 2xx status: look at the body, not only the status.
    return body[:200].lstrip().startswith(b"{") and b"rate limit exceeded" in body[:200].lower()


# What NCBI's front end says of a request it will never take, whatever its status: retrying cannot help.
_TOO_LONG = re.compile(r"too long|too large|exceeds? the max", re.IGNORECASE)


def is_too_long_reply(status: int, body: bytes) -> bool:
    """Whether an error reply says the request is too long for NCBI (413, 414, or a body saying so)."""
    return status in (413, 414) or (status >= 400 and _TOO_LONG.search(reply_text(body)) is not None)


def reply_text(body: bytes) -> str:
    """The words of an error reply (an HTML page's body, tags dropped), shortened, for a message."""
    text = body[:4096].decode("utf-8", "replace")
    text = re.sub(r"(?is).*<body[^>]*>", "", text)
    words = " ".join(re.sub(r"<[^>]*>", " ", text).split())
    return words if len(words) <= 200 else words[:200] + "…"


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
        raise Retryable(f"reply is not well-formed XML ({error})") from None


def check_efetch(body: bytes) -> bytes:
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
            raise Retryable(f"NCBI's backend failed ({text})")
        raise EutilsQueryError(f"{endpoint}: NCBI answered an error: {text}")
    if b"<PubmedArticleSet" not in body:
        raise Retryable("reply has no PubmedArticleSet")
    return body


def _raise_json_error(body: bytes, endpoint: str) -> None:
    try:
        document = json.loads(body)
    except ValueError:
        raise Retryable("reply is neither XML nor valid JSON") from None
    if is_rate_limit_body(body):
        raise Retryable("NCBI's rate limit answered")
    result = document.get("esearchresult", document) if isinstance(document, dict) else {}
    message = result.get("ERROR") or result.get("error") if isinstance(result, dict) else None
    if message and BACKEND_FAILURE.search(str(message)):
        raise Retryable(f"NCBI's search backend failed ({message})")
    raise EutilsQueryError(f"{endpoint}: NCBI answered an error: {message or body[:200]!r}")


def _pmid(text: str) -> int:
    """Read one IdList entry; PMIDs are positive and must fit SQLite's 64-bit INTEGER."""
    number = pmid_number(text.strip())
    if number is None:
        shown = repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text):,} characters)"
        raise EutilsError(f"esearch.fcgi: IdList holds {shown}, which is not a PMID (a whole number from 1 to "
                          "2^63-1); check that NCBI_EUTILS_URL points at NCBI E-utilities")
    return number


def parse_esearch(body: bytes) -> EsearchResult:
    """Read an eSearchResult; NCBI's error forms become exceptions, never "zero results"."""
    if body.lstrip()[:1] == b"{":
        _raise_json_error(body, "esearch.fcgi")
    _check_xml(body, "esearch.fcgi")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        # Well-formed for expat yet not for ElementTree: an entity that no declaration defines.
        raise Retryable(f"reply is not readable XML ({error})") from None
    errors = [e.text or "" for e in root.iter("ERROR")]
    # The retstart error names the backend too, but it is about the query's paging: retrying cannot help.
    if any(BACKEND_FAILURE.search(e) and "retstart" not in e.lower() for e in errors):
        raise Retryable(f"NCBI's search backend failed ({errors[0].strip()})")
    if errors:
        raise EutilsQueryError(f"esearch.fcgi: NCBI answered an error: {errors[0].strip()}")
    warnings = tuple((w.text or "").strip() for w in root.iterfind("WarningList/*") if (w.text or "").strip())
    if any(BACKEND_FAILURE.search(w) for w in warnings):
        raise Retryable(f"NCBI's search backend failed ({warnings[0]})")
    phrases = tuple((p.text or "").strip() for p in root.iterfind("ErrorList/PhraseNotFound"))
    other_errors = [f"{e.tag}: {(e.text or '').strip()}" for e in root.iterfind("ErrorList/*")
                    if e.tag != "PhraseNotFound"]
    if other_errors:
        raise EutilsQueryError(f"esearch.fcgi: NCBI could not run the query: {'; '.join(other_errors)}")
    count_text = root.findtext("Count")
    if count_text is None or not count_text.strip().isdigit():
        raise Retryable("eSearchResult has no Count")
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
