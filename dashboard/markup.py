"""Safe Markdown: stored text made inert, links built only from well-formed ids, matched terms highlighted."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd
import streamlit as st

from tracker.outputs.selection import Selection, to_query
from tracker.vocabulary import pubmed_url


# An error or warning may quote a URL or a path of hundreds of characters without a space: it breaks anywhere
# rather than running past the page's edge (at 1024 px the text is cut off). Likewise the sidebar's store path.
MESSAGE_WRAP_STYLE = ("<style>[data-testid='stAlert'], [data-testid='stAlert'] *, "
                      "[data-testid='stCaptionContainer'] { overflow-wrap: anywhere; }</style>")

# The page address's parameter that keeps the reviewer's name across a reload and from page to page.
REVIEWER_PARAM = "reviewer"
KEPT_PARAMETERS = (REVIEWER_PARAM,)
# Only ids of these shapes become links: stored text never reaches an href.
_PMCID = re.compile(r"PMC[0-9]{1,12}")
_DOI = re.compile(r"10\.[0-9]{4,9}/\S+")
# Markdown would read these characters in an abstract as emphasis, links, maths or headings; as HTML entities
# they reach the page as the plain characters they are.
# ":" too: Streamlit reads ":red[...]" and ":material/home:" as its own colour and icon syntax.
_MARKDOWN_ENTITIES = {character: f"&#{ord(character)};" for character in "\\`*_{}[]()#+-.!|$~<>&\"':="}
# A line break or blank line would end the HTML block and hand the rest back to Markdown.
_WHITESPACE = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
_MARKDOWN_ESCAPE = re.compile("|".join(re.escape(character) for character in _MARKDOWN_ENTITIES))


def doi_url(doi: object) -> str | None:
    """The doi.org link of a well-formed DOI ("10.NNNN/suffix"), percent-encoded so that brackets in it cannot
    break a Markdown link; None for anything else."""
    if not isinstance(doi, str) or not _DOI.fullmatch(doi.strip()):
        return None
    return "https://doi.org/" + urllib.parse.quote(doi.strip(), safe="/")


def pmc_url(pmcid: object) -> str | None:
    """The PubMed Central page of a well-formed PMC id ("PMC1234567"); None for anything else."""
    if not isinstance(pmcid, str) or not _PMCID.fullmatch(pmcid.strip()):
        return None
    return f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid.strip()}/"


def article_url(pmid: int, demo: bool) -> str:
    """Where a PMID links: the article's PubMed page; in `tracker demo`, whose synthetic PMIDs PubMed does not have,
    the article on this dashboard's Citations page."""
    return page_address({"page": "Citations", "pmid": str(int(pmid))}) if demo else pubmed_url(pmid)


def article_label(pmid: int, demo: bool) -> str:
    """What a link to `article_url` says: "PubMed 12345"; "PMID 12345" in the demo, where it opens this dashboard."""
    return f"{'PMID' if demo else 'PubMed'} {int(pmid)}"


def article_anchor(pmid: int, demo: bool) -> str:
    """The HTML link to `article_url` that `article_label` names."""
    return anchor(article_url(pmid, demo), article_label(pmid, demo))


def page_address(parameters: Mapping[str, str]) -> str:
    """The address of a page of the dashboard ("?page=Cause&cause=sleep"), keeping the parameters that stay from
    page to page: the reviewer's name in this page's address (following a link opens a new session, which would
    otherwise ask for it again). URL-encoded, so the name is inert in an href."""
    kept = {name: st.query_params[name] for name in KEPT_PARAMETERS if st.query_params.get(name)}
    return "?" + urllib.parse.urlencode({**parameters, **kept})


def citations_link(causes: Sequence[str] = (), retracted: str | None = None, **fields: object) -> str:
    """A link to the Citations page showing a selection: these causes, the retracted articles left out, included
    ("include") or alone ("only"), and any other `Selection` field that `selection.to_query` carries."""
    selection = Selection(hypotheses=tuple(causes), include_retracted=retracted in ("include", "only"),
                          only_retracted=retracted == "only", **fields)
    return page_address({"page": "Citations", **to_query(selection)})


def linked_count(count: int, causes: Sequence[str] = (), retracted: str | None = None, **fields: object) -> str:
    """A count as a Markdown link to the articles behind it."""
    return f"[{count:,}]({citations_link(causes, retracted, **fields)})"


def count_anchor(count: int, causes: Sequence[str] = (), retracted: str | None = None, **fields: object) -> str:
    """A count as an HTML link to the articles behind it (for counts inside an HTML block, where Markdown links are
    not read). No target: it opens in this tab, and `st.html`'s sanitiser keeps no target but "_blank"."""
    return f'<a href="{citations_link(causes, retracted, **fields)}">{count:,}</a>'


def escape_text(text: str) -> str:
    """Make text inert for st.markdown(unsafe_allow_html=True): HTML and Markdown both shown as typed."""
    return _MARKDOWN_ESCAPE.sub(lambda match: _MARKDOWN_ENTITIES[match.group(0)], _WHITESPACE.sub(" ", text))


def escape_markdown(text: str) -> str:
    """Make text inert for Markdown shown without HTML (st.warning): every ASCII punctuation character
    backslash-escaped, as CommonMark allows, Streamlit's ":red[...]" and ":material/...:" included."""
    return _PUNCTUATION.sub(r"\\\g<0>", _WHITESPACE.sub(" ", text))


def term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive whole-word pattern for the terms, tolerant of "tilt table" vs "tilt-table"."""
    alternatives = []
    for term in sorted({t for t in terms if t.strip()}, key=len, reverse=True):
        words = [re.escape(word) for word in re.split(r"[\s\-]+", term.strip()) if word]
        alternatives.append(r"[\s\-]?".join(words))
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def highlight_terms(text: str, terms: Iterable[str]) -> str:
    """Return the text escaped for markup with each term wrapped in <mark>; only escaped pieces reach the page."""
    text = _WHITESPACE.sub(" ", text).strip()
    pattern = term_pattern(terms)
    if pattern is None:
        return escape_text(text)
    # Matching the raw text and escaping each piece, rather than matching escaped text, keeps a term such as
    # "35" from landing inside an entity like "&#35;".
    pieces: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        pieces.append(escape_text(text[position:match.start()]))
        pieces.append(f"<mark>{escape_text(match.group(0))}</mark>")
        position = match.end()
    pieces.append(escape_text(text[position:]))
    return "".join(pieces)


def anchor(url: str, text_markup: str) -> str:
    """A link for an HTML block; `url` must come from a validated id, `text_markup` be escaped already."""
    return f'<a href="{url}" target="_blank" rel="noopener noreferrer">{text_markup}</a>'


def highlight_phrase(text: str, phrase: object) -> str:
    """The text escaped, with the first case-insensitive occurrence of `phrase` wrapped in <mark>."""
    text = _WHITESPACE.sub(" ", text).strip()
    if not present(phrase) or not str(phrase).strip():
        return escape_text(text)
    start = text.lower().find(str(phrase).strip().lower())
    if start < 0:
        return escape_text(text)
    end = start + len(str(phrase).strip())
    return f"{escape_text(text[:start])}<mark>{escape_text(text[start:end])}</mark>{escape_text(text[end:])}"


def present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value is not pd.NA and value != ""
