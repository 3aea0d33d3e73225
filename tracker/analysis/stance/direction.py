"""The direction of a finding: what one sentence (or the clause that holds a cause's term) reports."""

from __future__ import annotations

from typing import NamedTuple

from tracker.analysis.stance.cues import (
    NEGATION_SCOPE_WORDS, categories_that_may_match, clauses, cue_matches, overlaps)

DIRECTIONS: tuple[str, ...] = ("higher", "lower", "different", "no_difference")

class Finding(NamedTuple):
    """One finding read from a clause: its direction, the cue text and where the cue stands in the sentence."""

    direction: str
    cue: str
    start: int
    end: int
    # The cue's category in CUES ("null", "direction", "difference", "state", ...).
    category: str = ""


# The cue categories a finding is read from besides "null" (a negation before one of them makes it a null).
_DIRECTED_CATEGORIES = ("direction", "difference", "benefit", "state")
# The cue categories of which `has_finding` needs one in a sentence (its screen looks for these).
FINDING_CATEGORIES = ("anaphoric_null", "null", *_DIRECTED_CATEGORIES)
# Every finding of a clause comes from a cue of these categories.
_CLAUSE_FINDING_CATEGORIES = frozenset(("null", *_DIRECTED_CATEGORIES))


def clause_findings(sentence: str, start: int, end: int) -> list[Finding]:
    """The findings of one clause, a negation applied to the cues in its scope."""
    clause = sentence[start:end]
    # Without a cue of these, the negations, group labels and the rest need not be looked for.
    if _CLAUSE_FINDING_CATEGORIES.isdisjoint(categories_that_may_match(clause)):
        return []
    pseudo = cue_matches(clause, "pseudo_negation")
    groups = cue_matches(clause, "group_label")
    nulls = tuple(m for m in cue_matches(clause, "null") if not overlaps(m, groups))
    negations = [m for m in cue_matches(clause, "negation")
                 if not overlaps(m, pseudo) and not overlaps(m, nulls) and not overlaps(m, groups)]
    findings = [Finding(m.direction, m.text, start + m.start, start + m.end, "null") for m in nulls]
    for category in _DIRECTED_CATEGORIES:
        for match in cue_matches(clause, category):
            if overlaps(match, nulls):
                continue
            negation = next((n for n in reversed(negations) if n.end <= match.start
                             and len(clause[n.end:match.start].split()) <= NEGATION_SCOPE_WORDS), None)
            if negation is not None:
                findings.append(Finding("no_difference", clause[negation.start:match.end], start + negation.start,
                                        start + match.end, "null"))
            else:
                findings.append(Finding(match.direction, match.text, start + match.start, start + match.end,
                                        category))
    # "Pain decreased in both groups": a change in each, no difference between them; but an association found
    # "in both groups" is a finding in each.
    within = cue_matches(clause, "within_groups")
    if within and findings and not cue_matches(clause, "association"):
        findings = [Finding("no_difference", within[0].text, start + within[0].start, start + within[0].end,
                            "within_groups")]
    # A direction outranks a bare difference cue at the same place ("significantly lower": lower).
    findings.sort(key=lambda f: (f.start, DIRECTIONS.index(f.direction) if f.direction != "different" else 9))
    return _merged(findings)


def _merged(findings: list[Finding]) -> list[Finding]:
    """Drop a finding whose cue lies inside another's, keeping the more specific (null, then direction)."""
    rank = {"no_difference": 0, "higher": 1, "lower": 1, "different": 2}
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (rank[f.direction], f.start)):
        if not any(k.start < finding.end and finding.start < k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


def clause_verdict(findings: list[Finding], anchor: int | None) -> Finding | None:
    """The finding that decides a clause: no difference outranks a direction it stands with ("X was not
    significantly lower ..."); otherwise a direction outranks a bare difference, and the nearest to the
    anchor (the cause's term) wins."""
    if not findings:
        return None
    for preferred in (("no_difference",), ("higher", "lower"), ("different",)):
        chosen = [f for f in findings if f.direction in preferred]
        if chosen:
            if anchor is None:
                return chosen[0]
            return min(chosen, key=lambda f: min(abs(f.start - anchor), abs(f.end - anchor)))
    return None


def read_finding(sentence: str, anchor: int | None = None) -> Finding | None:
    """The finding a sentence reports and the cue that says it, or None; `anchor` (a character offset, e.g.
    where a cause's term stands) picks the clause that holds it and the cue nearest it."""
    spans = clauses(sentence)
    anaphoric = cue_matches(sentence, "anaphoric_null")
    if anaphoric:
        return Finding("no_difference", anaphoric[0].text, anaphoric[0].start, anaphoric[0].end, "anaphoric_null")
    if anchor is not None:
        holding = [span for span in spans if span[0] <= anchor < span[1]]
        for span in holding:
            verdict = clause_verdict(clause_findings(sentence, *span), anchor)
            if verdict is not None:
                return verdict
        # The term's own clause has no cue ("serotonin levels in FM patients, compared with controls, were
        # lower"): the whole sentence decides.
        return clause_verdict([f for span in spans for f in clause_findings(sentence, *span)], anchor)
    for span in spans:
        verdict = clause_verdict(clause_findings(sentence, *span), None)
        if verdict is not None:
            return verdict
    return None


def has_finding(sentence: str) -> bool:
    """Whether any clause of a sentence reports a finding: `read_finding` returns None for every anchor where
    this is False, so a sentence without one need not be read further."""
    if cue_matches(sentence, "anaphoric_null"):
        return True
    return any(clause_findings(sentence, start, end) for start, end in clauses(sentence))


def finding_direction(sentence: str) -> str | None:
    """Read the finding a sentence reports: "higher", "lower", "different" (a significant difference or an
    association without a direction), "no_difference", or None (no finding).

    The first clause with a finding cue decides (clauses end at "but", "whereas", ";" ...); a negation within a
    few words before a direction or difference cue turns it into "no_difference" ("did not show a significant
    increase"), and an explicit null cue ("did not differ", "were similar", "no significant difference",
    "p = 0.40") outranks a direction in its clause. The direction is the one the sentence states for its
    subject: "A was lower than B" is "lower" whatever A and B are.
    """
    finding = read_finding(sentence)
    return None if finding is None else finding.direction


