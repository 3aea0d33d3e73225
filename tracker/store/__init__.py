"""The SQLite store: schema and migrations, WAL, idempotent upserts by PMID, fetch-run bookkeeping, reads.

Writers use `transaction()` so that every batch commits whole or not at all; readers (the dashboard, exports)
open the file read-only and see the last committed state while a fetch writes.

One module a job, all imported from here:
- `connection`: the file, its schema and migrations, transactions and read snapshots (`reading(path)`);
- `articles`: article upserts, sources and hypothesis links;
- `runs`: fetch and import runs (what each stored first and changed) and per-hypothesis sync state;
- `catalogue`: tags and facets, and the catalogue frame every reader works from, with its decoding;
- `reviews`: the stances people reviewed, and `load_stance_frame`, the one read of stances, which counts them;
- `summaries`: the counts the Overview and Cause pages draw, kept in step with every write;
- `emerging`: what the emerging analysis counts, read a batch at a time;
- `selecting`: the articles a filter keeps, by SQL (text through an FTS5 index): a page, a count, or batches.
"""

from tracker.store.articles import (
    article_from_row,
    delete_articles,
    hypotheses_of,
    iter_citation_key_fields,
    link_hypothesis,
    linked_pmids,
    load_article,
    load_stored_pmids,
    load_revised_date,
    orphan_pmids,
    pmids_from_source,
    save_articles,
    stored_pmids,
    unlink_hypothesis,
)
from tracker.store.catalogue import (
    DETAIL_COLUMNS,
    FACET_COLUMNS,
    STANCE_COLUMNS,
    decode_details,
    has_stances,
    load_articles_frame,
    load_catalogue,
    load_parked,
    load_stance_frame as load_machine_stance_frame,
    save_stances,
    save_tags,
    stale_stance_pmids,
    stale_tag_pmids,
)
from tracker.store.connection import (
    MIGRATIONS,
    SCHEMA_VERSION,
    checkpoint,
    connect,
    read_snapshot,
    reading,
    transaction,
    utc_now,
)
from tracker.store.reviews import (
    REVIEW_TABLE_COLUMNS,
    load_review_states,
    load_review_summary,
    load_reviews,
    load_stance_frame,
    save_reviews,
    write_review,
)
from tracker.store.selecting import (
    count_selected,
    iter_selected,
    iter_selected_batches,
    latest_first_seen,
    select_pmids,
    year_span,
)
from tracker.store.summaries import (
    count_articles,
    count_retracted,
    load_finding_counts,
    load_summaries,
    summary_year_span,
    newest_pmids,
    top_mesh,
)
from tracker.store.emerging import iter_emerging_batches
from tracker.store.runs import (
    RUN_KINDS,
    finish_run,
    load_last_successful_run,
    pmids_changed_since_start,
    pmids_stored_since,
    load_run_history,
    load_run_hypotheses_frame,
    load_run_list,
    load_runs_frame,
    load_status_frame,
    load_sync_state,
    newest_revision,
    record_import_run,
    record_run_articles,
    record_run_hypothesis,
    reset_modified_since,
    save_sync_state,
    start_run,
)

__all__ = [
    "DETAIL_COLUMNS", "FACET_COLUMNS", "MIGRATIONS", "REVIEW_TABLE_COLUMNS", "RUN_KINDS", "SCHEMA_VERSION",
    "STANCE_COLUMNS", "article_from_row", "checkpoint", "connect", "count_articles", "count_selected",
    "decode_details", "delete_articles", "finish_run", "has_stances", "hypotheses_of", "iter_citation_key_fields", "iter_emerging_batches", "iter_selected",
    "iter_selected_batches", "latest_first_seen", "link_hypothesis", "linked_pmids", "load_article",
    "load_articles_frame", "load_stored_pmids", "load_catalogue", "count_retracted", "load_finding_counts", "load_last_successful_run",
    "load_machine_stance_frame", "load_parked", "load_review_states", "load_review_summary", "load_reviews",
    "load_revised_date", "load_run_history", "load_run_hypotheses_frame", "load_run_list", "load_runs_frame",
    "load_stance_frame", "load_status_frame", "load_summaries", "load_sync_state", "newest_pmids", "newest_revision",
    "orphan_pmids", "pmids_changed_since_start", "pmids_from_source", "pmids_stored_since", "read_snapshot", "reading",
    "record_import_run", "record_run_articles", "record_run_hypothesis", "reset_modified_since",
    "save_articles", "save_reviews", "save_stances", "save_sync_state", "save_tags", "select_pmids",
    "stale_stance_pmids", "stale_tag_pmids", "start_run", "stored_pmids", "summary_year_span", "top_mesh",
    "transaction", "unlink_hypothesis", "utc_now", "write_review", "year_span"
]
