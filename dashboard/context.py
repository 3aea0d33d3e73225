"""What every page is given (`Context`), and the pieces two pages share: the latest run and a run's label."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dashboard import loaders
from tracker.config import Hypothesis, Settings
from tracker.outputs.selection import new_by_successful_run


@dataclass(frozen=True)
class Context:
    """What every page needs: settings, the store's state, the clock and the reader's global choices."""

    settings: Settings
    state: loaders.StoreState
    include_retracted: bool
    now: datetime
    # TRACKER_REVIEWER; when unset, the Review page and the article view ask once per browser session.
    reviewer: str | None = None
    # Serving `tracker demo`'s synthetic store: its PMIDs, DOIs and PMC ids are on no outside site, so they link to
    # this dashboard or nowhere.
    demo: bool = False

    @property
    def hypotheses(self) -> tuple[Hypothesis, ...]:
        """Every configured hypothesis, the baseline included."""
        return self.settings.hypotheses

    @property
    def causes(self) -> tuple[Hypothesis, ...]:
        """The hypotheses that are causes."""
        return self.settings.causes

    @property
    def labels(self) -> dict[str, str]:
        """What the reader sees for each hypothesis id."""
        return {h.id: h.label for h in self.settings.hypotheses}

    @property
    def hypothesis_ids(self) -> tuple[str, ...]:
        """The configured ids a selection may name."""
        return tuple(h.id for h in self.settings.hypotheses)

    @property
    def retracted_filter(self) -> str | None:
        """What a count's link says about retracted articles: counted with the others, or not."""
        return "include" if self.include_retracted else None


def latest_run(context: Context) -> Mapping | None:
    """The newest successful fetch or import, or None before the first."""
    runs = loaders.load_run_list(context.state)
    succeeded = runs[runs["status"] == "succeeded"]
    return None if succeeded.empty else succeeded.iloc[-1].to_dict()


def latest_run_with_new(context: Context) -> tuple[Mapping | None, int, Mapping | None]:
    """The newest successful run that stored an article for the first time, how many it stored (with those of the
    failed fetches it folds in), and the newest successful run when that one stored nothing new (else None): a
    re-run with nothing new must not make "new" read 0."""
    runs = loaders.load_run_list(context.state)
    # Counted in one pass: a daily fetch's quiet months are as many runs to look past.
    new_counts = new_by_successful_run(runs)
    if not new_counts:
        return None, 0, None
    succeeded = {run["id"]: run for run in runs[runs["status"] == "succeeded"].to_dict("records")}
    latest = max(new_counts)
    with_new = [run_id for run_id, count in new_counts.items() if count]
    if not with_new:
        return succeeded[latest], 0, None
    return (succeeded[with_new[-1]], new_counts[with_new[-1]],
            None if with_new[-1] == latest else succeeded[latest])


def run_label(run: Mapping) -> str:
    """A run as the reader picks it: "run 7 (fetch, 2026-12-01 02:31 UTC)", an import with its files."""
    what = run["kind"] if run["kind"] != "import" or not run["files"] else f"import of {', '.join(run['files'])}"
    when = str(run["finished_at"] or run["started_at"])
    return f"run {run['id']} ({what}, {when[:10]} {when[11:16]} UTC)"
