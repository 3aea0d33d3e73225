"""Emerging causes: which ideas are rising in the fibromyalgia literature that no configured cause covers yet.

Pure: a catalogue frame (as `store.load_catalogue` gives it), batches of catalogue rows, or a function that reads
the batches afresh (as `store.iter_emerging_batches` does: the analysis counts them once per pass, six passes,
reducing each batch to counts before the next; it keeps the first batches' words between passes up to a bound,
200 MB, and reads only the others again, so its memory is bounded whatever the store's size), and the
configured hypotheses in, a ranked frame out; no I/O, no clock (the caller passes the year it is `as_of` and the
current year).

Candidates come from the baseline (fibromyalgia) articles that are not retracted: MeSH descriptors, supplementary
concepts / chemicals when the catalogue has such a column, author keywords, and noun phrases of 1-4 words from
titles and abstracts. A noun phrase is a run of words between stop words and punctuation (a rule-based chunker,
as RAKE does: no tagger model to download, and fast enough for 200,000 abstracts) that does not end in a
modifier such as "small" or "chronic". Every candidate is normalised the same way: case, hyphens ("small-fibre"
is "small fibre"), plurals ("fibres" is "fibre") and British spelling ("fibre" is "fiber", "sensitisation" is
"sensitization"), each rewrite applied only where the corpus attests the rewritten form, so "exercise" never
becomes "exercize" nor "diabetes" "diabete". One normalised form is one candidate, wherever it was found (its
`kind` says where: mesh, chemical, keyword, phrase). A phrase that occurs almost only inside one longer phrase
("fiber pathology" inside "small fiber pathology") is left to the longer one.

Left out, by the rules `exclusion_table` returns (auditable data: every excluded candidate keeps its rule):
the configured hypotheses' terms (a candidate containing one is covered by that cause) and their queries' words
and phrases (exactly, or by their truncation stem), MeSH check tags and demographic headings, study-design words
and generic academic phrases.

Statistics, per candidate, on the share of each publication year's baseline articles that mention it:
- growth: the recent window (the last 3 years up to `as_of`) against the 5 years before it. The rate ratio is
  (a / N1) / (b / N0); the exact conditional test for two Poisson rates (Przyborowski-Wilenski): given a + b,
  a is Binomial(a + b, N1 / (N1 + N0)) when the rate did not change, one-sided for a rise. Benjamini-Hochberg
  q-values over all candidates tested (`scipy.stats.false_discovery_control`).
- trend: Mann-Kendall over the shares of the 8 years of both windows, with the tie correction (vectorised here
  over all candidates; the tests check it against `pymannkendall.original_test`).
- burst: Kleinberg's two-state automaton over the shares of the last 20 years (batched form: state 0 emits at
  the overall share p0, state 1 at s * p0, s = 2; entering state 1 costs gamma * ln(years), gamma = 1), solved
  exactly by Viterbi.
A candidate is **emerging** when q < 0.05, the rate ratio is at least 1.5, and it is bursting in `as_of` or
trending up (Mann-Kendall p < 0.05, increasing).

As of a year: only articles that had entered PubMed by the end of that year count: the year of `entry_date`
(PubMed's Entrez date) where known, else the publication year; an article counts from the later of the two
years, so an issue dated next year waits for its year. Articles without a publication year have no place in a
yearly series and are left out. `first_flagged_year` replays the method as of each of the 15 years up to
`as_of` and gives the first in which the candidate was emerging.

The package's modules, one job each: `method` (parameters, result), `exclusions`, `words` (normalisation),
`candidates` (mentions per year), `statistics`, `ranking` (`find_emerging`), `entry` (a candidate as TOML).
"""

from tracker.analysis.emerging.candidates import Mentions, baseline_articles, extract_mentions
from tracker.analysis.emerging.entry import find_candidate, hypothesis_id_for, hypothesis_toml, loose_key, year_ranges
from tracker.analysis.emerging.exclusions import exclusion_table
from tracker.analysis.emerging.method import KINDS, RANKED_COLUMNS, YEARLY_COLUMNS, EmergingResult, Method
from tracker.analysis.emerging.ranking import EARLIEST_AS_OF, check_as_of, find_emerging, score_mentions
from tracker.analysis.emerging.statistics import growth_test, kleinberg_bursts, mann_kendall, q_values
from tracker.analysis.emerging.words import STOP_WORDS, canonical_word, normalise_phrase, phrase_words

__all__ = [
    "EARLIEST_AS_OF", "KINDS", "RANKED_COLUMNS", "STOP_WORDS", "YEARLY_COLUMNS", "EmergingResult", "Mentions",
    "Method", "baseline_articles", "canonical_word", "check_as_of", "exclusion_table", "extract_mentions",
    "find_candidate", "find_emerging", "growth_test", "hypothesis_id_for", "hypothesis_toml", "kleinberg_bursts",
    "loose_key", "mann_kendall", "normalise_phrase", "phrase_words", "q_values", "score_mentions", "year_ranges",
]
