"""The review file a team shares reviews with: CSV or JSON Lines, read and written without touching the store.

Either format holds exactly the fields `reviews.REVIEW_FIELDS`, in that order: a CSV header row
`pmid,hypothesis,stance,reviewer,reviewed_at,sentence,note`, or one JSON object a line with those keys.
`reviewed_at` is ISO 8601 with a zone ("2026-12-01T09:30:00Z"); `sentence` and `note` may be empty. A row with an
empty reviewer takes the name given to the import (`--reviewer`, `TRACKER_REVIEWER`).

CSV is written as the article export writes it (UTF-8, RFC 4180 quoting, CRLF), every cell that a spreadsheet
would run as a formula starting with an apostrophe; reading takes that apostrophe off again, so an exported file
imports as it was written.

Reading checks every row and refuses the file if any is wrong, with one line naming the file, the first wrong row
and its fix, and where the others are: "reviews.csv row 3: stance 'support' is not one of supports, contradicts,
mixed, no_finding; ... (and 2 more rows with problems: row 7, row 9)".
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from tracker.analysis.reviews import REVIEW_FIELDS, Review, check_review
from tracker.errors import ConfigError, TrackerError, rows_refused
from tracker.outputs.export import neutralise_cell

REVIEW_FORMATS = ("csv", "jsonl")
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


def review_file_format(path: Path, text: str) -> str:
    """"csv" or "jsonl": by the file's suffix, else by its first character (a JSON object starts with "{")."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in _JSONL_SUFFIXES:
        return "jsonl"
    return "jsonl" if text.lstrip("\ufeff \t\r\n").startswith("{") else "csv"


def read_review_file(path: Path, reviewer: str | None = None) -> list[tuple[str, Review]]:
    """The file's reviews, checked, each with the words that name its row ("reviews.csv row 3") for messages."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; give the path of a review file (CSV or JSON Lines)") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: is not UTF-8 text (byte {error.start}); save it as UTF-8 and import it again") \
            from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read it ({error.strerror}); check the path and its permissions") from None
    name = Path(path).name
    if review_file_format(Path(path), text) == "jsonl":
        return parse_jsonl_reviews(text, name, reviewer)
    return parse_csv_reviews(text, name, reviewer)


def parse_csv_reviews(text: str, name: str, reviewer: str | None = None) -> list[tuple[str, Review]]:
    """The reviews of a CSV review file's text (rows numbered as a spreadsheet does: the header is row 1)."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = next(rows, None)
        if header is None:
            raise ConfigError(f"{name}: is empty; its first row must be the header {','.join(REVIEW_FIELDS)}")
        if [cell.strip() for cell in header] != list(REVIEW_FIELDS):
            raise ConfigError(f"{name}: the header is {','.join(header)!r}; its first row must be exactly "
                              f"{','.join(REVIEW_FIELDS)}")
        records = []
        for number, cells in enumerate(rows, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            where = f"{name} row {number}"
            if len(cells) != len(REVIEW_FIELDS):
                raise ConfigError(f"{where}: has {len(cells)} cells, not {len(REVIEW_FIELDS)}; give every row the "
                                  f"fields {','.join(REVIEW_FIELDS)} (quote a text with commas in it)")
            records.append((where, dict(zip(REVIEW_FIELDS, (_restored_cell(cell) for cell in cells)))))
    except csv.Error as error:
        raise ConfigError(f"{name} line {rows.line_num}: is not valid CSV ({error}); save it again as CSV") from None
    return _checked(records, reviewer)


def parse_jsonl_reviews(text: str, name: str, reviewer: str | None = None) -> list[tuple[str, Review]]:
    """The reviews of a JSON Lines review file's text: one object a line with exactly the REVIEW_FIELDS keys."""
    records = []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            record = json.loads(line)
        except ValueError as error:
            raise ConfigError(f"{where}: is not a JSON object ({error.msg}); write one object a line") from None
        if not isinstance(record, dict) or set(record) != set(REVIEW_FIELDS):
            keys = ", ".join(record) if isinstance(record, dict) else type(record).__name__
            raise ConfigError(f"{where}: has the keys {keys or 'none'}; write exactly {', '.join(REVIEW_FIELDS)}")
        for field, value in record.items():
            if field != "pmid" and value is not None and not isinstance(value, str):
                raise ConfigError(f"{where}: {field} is {json.dumps(value)}; write it as a string")
        records.append((where, {field: "" if value is None else value for field, value in record.items()}))
    return _checked(records, reviewer)


def _checked(records: Iterable[tuple[str, dict]], reviewer: str | None) -> list[tuple[str, Review]]:
    """Each record as a checked Review; a file with any wrong row is refused, naming the first and where the others
    are."""
    reviews: list[tuple[str, Review]] = []
    problems: list[tuple[str, str]] = []
    for where, fields in records:
        try:
            reviews.append((where, check_review(Review(
                pmid=_pmid(fields["pmid"], where), hypothesis=fields["hypothesis"], stance=fields["stance"].strip(),
                reviewer=fields["reviewer"] or (reviewer or ""), reviewed_at=fields["reviewed_at"],
                sentence=fields["sentence"], note=fields["note"]), where)))
        except TrackerError as error:
            problems.append((where, str(error)))
    if problems:
        raise rows_refused(problems)
    return reviews


def _pmid(value: object, where: str) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdecimal() or not 0 < int(text) < 2**63:
        raise ConfigError(f"{where}: pmid {value!r} is not a PubMed id; write the article's PMID, a positive "
                          f"whole number")
    return int(text)


def _restored_cell(cell: str) -> str:
    """The cell as it was before `neutralise_cell` guarded it: a leading apostrophe that guard added comes off."""
    if cell.startswith("'") and neutralise_cell(cell[1:]) == cell:
        return cell[1:]
    return cell


def review_record(review: Review) -> dict[str, object]:
    """The review as the file's fields, in their order (pmid a number)."""
    return {"pmid": int(review.pmid), "hypothesis": review.hypothesis, "stance": review.stance,
            "reviewer": review.reviewer, "reviewed_at": review.reviewed_at, "sentence": review.sentence,
            "note": review.note}


def write_reviews_csv(reviews: Iterable[Review], stream: TextIO) -> int:
    """Write the reviews as a CSV review file (formula cells neutralised); return how many were written."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(REVIEW_FIELDS)
    count = 0
    for review in reviews:
        writer.writerow([neutralise_cell(value) for value in review_record(review).values()])
        count += 1
    return count


def write_reviews_jsonl(reviews: Iterable[Review], stream: TextIO) -> int:
    """Write the reviews as JSON Lines, one object a line with the fields in order; return how many."""
    count = 0
    for review in reviews:
        stream.write(json.dumps(review_record(review), ensure_ascii=False) + "\n")
        count += 1
    return count
