"""An Atom 1.0 feed of the articles the tracker first saw in the last N days (or new in a run), for any feed reader.

At most FEED_LIMIT entries (500; `tracker feed --limit` changes it), the newest: a first sync's 11,000 articles
would otherwise make an 11 MB feed that readers refuse or choke on.

Each entry is one article: its id and link are its PubMed page, `published` is when the tracker first stored it,
`updated` when its record last changed; the summary names its causes (the hypotheses it carries, without the
baseline) and its study design, which are also given as categories.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pandas as pd

from tracker.config import TOOL_NAME, Hypothesis
from tracker.errors import ConfigError
from tracker.models import RunHistory
from tracker.outputs.selection import Selection, select_articles
from tracker.vocabulary import DESIGN_LABELS, pubmed_url
from tracker.wording import counted

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
FEED_TITLE = "Fibromyalgia evidence tracker: new articles"
# A tag: URI (RFC 4151) never changes with the store's location, so readers keep their read marks.
FEED_ID_PREFIX = "tag:fibromyalgia-evidence-tracker,2026:feed"
HYPOTHESIS_SCHEME = "tag:fibromyalgia-evidence-tracker,2026:hypothesis"
DESIGN_SCHEME = "tag:fibromyalgia-evidence-tracker,2026:design"
MAX_DAYS = 3650
DEFAULT_DAYS = 30
# Entries in one feed: a few hundred is what readers such as Feedly or Thunderbird fetch comfortably.
FEED_LIMIT = 500
# The catalogue's detail columns an entry reads: the caller decodes them (store.decode_details) before build_feed.
FEED_DETAILS = ("authors",)

# XML 1.0 cannot carry these control characters at all, not even escaped.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def select_feed_articles(
    catalogue: pd.DataFrame,
    hypotheses: Sequence[Hypothesis],
    *,
    days: int | None = DEFAULT_DAYS,
    hypothesis_ids: Sequence[str] = (),
    now: datetime,
    runs: RunHistory | None = None,
    new_in_run: int | str | None = None,
    changed_in_run: int | str | None = None,
) -> pd.DataFrame:
    """The catalogue rows of the articles first seen in the last `days` days before `now` (None: any time) and
    new or changed in the run named, newest first; `runs` is the store's run history when a run is named.

    The rows are as the catalogue holds them: take the first FEED_LIMIT (or the caller's limit) and decode
    FEED_DETAILS of these few rows, not of the whole catalogue, before handing them to `build_feed`.
    """
    selection = feed_selection(days=days, hypothesis_ids=hypothesis_ids, now=now, new_in_run=new_in_run,
                               changed_in_run=changed_in_run)
    articles = select_articles(catalogue, selection, hypothesis_ids=[h.id for h in hypotheses], runs=runs)
    articles = articles.assign(_first_seen=pd.to_datetime(articles["first_seen"], utc=True, format="ISO8601"))
    return articles.sort_values(["_first_seen", "pmid"], ascending=[False, False]).drop(columns="_first_seen")


def feed_selection(*, days: int | None = DEFAULT_DAYS, hypothesis_ids: Sequence[str] = (), now: datetime,
                   new_in_run: int | str | None = None, changed_in_run: int | str | None = None) -> Selection:
    """The Selection of a feed's articles (read them newest first seen first: `store.select_pmids(order=
    "first_seen")`), as `select_feed_articles` keeps them."""
    _check_window(days, new_in_run, changed_in_run)
    since = None if days is None else (_utc_seconds(now) - timedelta(days=days)).isoformat()
    return Selection(hypotheses=tuple(hypothesis_ids), new_since=since, new_in_run=new_in_run,
                     changed_in_run=changed_in_run)


def build_feed(
    articles: pd.DataFrame,
    hypotheses: Sequence[Hypothesis],
    *,
    days: int | None = DEFAULT_DAYS,
    hypothesis_ids: Sequence[str] = (),
    now: datetime,
    new_in_run: int | str | None = None,
    changed_in_run: int | str | None = None,
) -> bytes:
    """Return an Atom feed (UTF-8 XML) of `select_feed_articles`' rows, FEED_DETAILS decoded, in their order.

    The run choices are as a `Selection` keeps them (None, "latest" or a run id), as the rows were selected.
    """
    _check_window(days, new_in_run, changed_in_run)
    authors = articles["authors"].dropna() if "authors" in articles.columns else None
    if authors is None or (len(authors) and isinstance(authors.iloc[0], (bytes, str))):
        raise ValueError("the frame's 'authors' column is missing or not decoded; decode it first: "
                         "store.decode_details(frame, feed.FEED_DETAILS)")
    now = _utc_seconds(now)
    labels = {h.id: h.label for h in hypotheses}
    causes = {h.id for h in hypotheses if not h.baseline}

    # Plain tag names under an explicit xmlns: ElementTree's default_namespace option refuses the plain
    # attribute names (rel, href, term) that Atom uses.
    feed = ET.Element("feed", xmlns=ATOM_NAMESPACE)
    feed_id = FEED_ID_PREFIX + (":" + ",".join(sorted(hypothesis_ids)) if hypothesis_ids else "")
    # A feed of another run choice is another feed: readers must not merge their entries and read marks.
    feed_id += "".join(f":{name}-{choice}" for name, choice in (("new-in-run", new_in_run),
                                                                ("changed-in-run", changed_in_run))
                       if choice is not None)
    _child(feed, "id", feed_id)
    _child(feed, "title", FEED_TITLE)
    subtitle = describe_feed(days, new_in_run, changed_in_run)[1]
    if hypothesis_ids:
        subtitle += " for " + ", ".join(labels.get(i, i) for i in hypothesis_ids)
    _child(feed, "subtitle", subtitle)
    entry_times = [_timestamp(value) for value in articles["last_changed"]] if len(articles) else []
    _child(feed, "updated", _rfc3339(max(entry_times) if entry_times else now))
    author = _child(feed, "author")
    _child(author, "name", "Fibromyalgia evidence tracker")
    _child(feed, "generator", TOOL_NAME)
    _child(feed, "link", rel="related", href="https://pubmed.ncbi.nlm.nih.gov/")
    for row in articles.to_dict("records"):
        feed.append(_entry(row, labels, causes))
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def describe_feed(days: int | None, new_in_run: int | str | None = None,
                  changed_in_run: int | str | None = None) -> tuple[str, str]:
    """What a feed lists: for `tracker feed`'s report ("the last 7 days") and as the feed's subtitle.

    The run choices are as a `Selection` keeps them: None, "latest" or a run id.
    """
    # "the last 1 day" in the report, as `tracker` counts everything; "the last day" in the subtitle.
    report = None if days is None else f"the last {counted(days, 'day')}"
    window = None if days is None else "the last " + ("day" if days == 1 else f"{days} days")
    in_runs = " and ".join(f"{word} in {'the latest run' if choice == 'latest' else f'run {choice}'}"
                           for word, choice in (("new", new_in_run), ("changed", changed_in_run))
                           if choice is not None)
    if window is None:
        return f"articles {in_runs}", f"Articles {in_runs}"
    if not in_runs:
        return report, f"Articles first seen in {window}"
    return f"{report}, {in_runs}", f"Articles first seen in {window}, {in_runs}"


def check_limit(limit: object) -> int:
    """The number of entries a feed may hold, checked."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"limit {limit!r} is not a number of entries; give a whole number from 1")
    return limit


def _check_window(days: object, new_in_run: object, changed_in_run: object) -> None:
    if days is None:
        if new_in_run is None and changed_in_run is None:
            raise ConfigError("a feed without a day window needs a run: give days, new_in_run or changed_in_run")
        return
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ConfigError(f"days {days!r} is out of range; give a whole number of days from 1 to {MAX_DAYS}")


def _utc_seconds(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _entry(row: dict, labels: dict[str, str], causes: set[str]) -> ET.Element:
    entry = ET.Element("entry")
    url = pubmed_url(row["pmid"])
    _child(entry, "id", url)
    _child(entry, "title", row["title"] or f"PMID {row['pmid']}")
    first_seen = _timestamp(row["first_seen"])
    _child(entry, "updated", _rfc3339(max(first_seen, _timestamp(row["last_changed"]))))
    _child(entry, "published", _rfc3339(first_seen))
    _child(entry, "link", rel="alternate", type="text/html", href=url)
    for author in row["authors"] if row["authors"] is not None else ():
        name = author.get("collective_name") or " ".join(
            part for part in (author.get("fore_name") or author.get("initials"), author.get("last_name")) if part)
        if name:
            _child(_child(entry, "author"), "name", name)
    article_causes = [i for i in row["hypotheses"] if i in causes]
    for hypothesis_id in article_causes:
        _child(entry, "category", term=hypothesis_id, scheme=HYPOTHESIS_SCHEME,
               label=labels.get(hypothesis_id, hypothesis_id))
    design_label = DESIGN_LABELS.get(row["design"], row["design"])
    _child(entry, "category", term=row["design"], scheme=DESIGN_SCHEME, label=design_label)
    _child(entry, "summary", _summary(row, [labels.get(i, i) for i in article_causes], design_label), type="text")
    return entry


def _summary(row: dict, cause_labels: list[str], design_label: str) -> str:
    causes = ", ".join(cause_labels) if cause_labels else "none of the tracked causes"
    journal, year = row.get("journal"), row.get("pub_year")
    source = ", ".join(part for part in ("" if pd.isna(journal) else str(journal),
                                         "" if pd.isna(year) else str(int(year))) if part)
    lines = [f"Causes: {causes}.", f"Study design: {design_label}."]
    if source:
        lines.append(f"Published in {source}.")
    flags = [text for name, text in (("retraction_notice", "a retraction notice"), ("has_erratum", "has an erratum"),
                                      ("expression_of_concern", "has an expression of concern")) if row.get(name)]
    if flags:
        lines.append("Integrity: " + "; ".join(flags) + ".")
    return " ".join(lines)


def _child(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {name: _clean(value) for name, value in attributes.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _clean(text: object) -> str:
    return _XML_ILLEGAL.sub("", str(text))


def _timestamp(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
