"""The stance reader on the project's own hand-written abstracts: splitter, finding cues, the per-pair stance."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from tracker.analysis import stance, tagging
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses

SHIPPED = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
RULES = tagging.compile_rules(SHIPPED)
STANCE_RULES = stance.compile_stance_rules(SHIPPED, RULES)


# --- the splitter ---------------------------------------------------------------------------------------------

def test_sentences_keep_abbreviations_decimals_and_p_values_inside() -> None:
    text = ("Serotonin was 0.45 ng/ml lower vs. controls (p < 0.05). As Russell et al. reported, e.g. in CSF, "
            "levels fell (Fig. 2). Substance P rose, p < 0.01. Dr. Smith J. Brown read it. The end?  Yes.")
    spans = stance.split_sentences(text)
    assert [text[start:end] for start, end in spans] == [
        "Serotonin was 0.45 ng/ml lower vs. controls (p < 0.05).",
        "As Russell et al. reported, e.g. in CSF, levels fell (Fig. 2).",
        "Substance P rose, p < 0.01.",
        "Dr. Smith J. Brown read it.",
        "The end?",
        "Yes.",
    ]


def test_a_stop_inside_brackets_ends_no_sentence() -> None:
    text = "Levels were low (mean 2.1 vs. 3.4. See Table 1) in patients. Next."
    assert [text[a:b] for a, b in stance.split_sentences(text)] == [
        "Levels were low (mean 2.1 vs. 3.4. See Table 1) in patients.", "Next."]


def test_inline_labels_become_sections() -> None:
    assert stance.sections_from_text("BACKGROUND: Why. RESULTS: Lower. CONCLUSIONS: So.") == [
        {"text": "Why.", "label": "BACKGROUND", "nlm_category": None},
        {"text": "Lower.", "label": "RESULTS", "nlm_category": None},
        {"text": "So.", "label": "CONCLUSIONS", "nlm_category": None},
    ]


# --- finding_direction: each cue family -------------------------------------------------------------------------

@pytest.mark.parametrize(("sentence", "direction"), [
    # no difference
    ("Serotonin did not differ between patients and controls.", "no_difference"),
    ("There was no significant difference in substance P between the groups.", "no_difference"),
    ("Cortisol levels were similar in patients and controls.", "no_difference"),
    ("Heart rate variability was comparable to that of healthy controls.", "no_difference"),
    ("Tryptophan was unchanged after the test.", "no_difference"),
    ("Plasma substance P (p = 0.41) did not reach significance.", "no_difference"),
    # direction
    ("CSF substance P was elevated in patients.", "higher"),
    ("Patients had significantly higher substance P than controls.", "higher"),
    ("Serum serotonin was significantly decreased in patients.", "lower"),
    ("Sleep efficiency was reduced in the patients.", "lower"),
    ("Conditioned pain modulation was impaired.", "lower"),
    # association and significance without a direction
    ("Cortisol was associated with pain severity.", "different"),
    ("Heart rate variability correlated with fatigue (r = 0.41).", "different"),
    ("Childhood trauma predicted the onset of widespread pain.", "different"),
    ("Sleep architecture was abnormal in most patients.", "different"),
    ("The groups differed in serotonin (p = 0.003).", "different"),
    # negation and its scope
    ("Treatment did not produce a significant increase in serotonin.", "no_difference"),
    ("Serotonin was not significantly lower in patients than in controls.", "no_difference"),
    ("Cortisol was not associated with pain.", "no_difference"),
    ("None of the sleep measures differed significantly between the groups.", "no_difference"),
    ("No patient withdrew, but serotonin was significantly lower.", "lower"),
    ("Patients had not only higher pain but also higher substance P.", "higher"),
    ("Serotonin was lower in patients, but the difference was not significant.", "no_difference"),
    ("Pain decreased in both groups.", "no_difference"),
    # no finding at all
    ("Serotonin was measured in serum by ELISA.", None),
    ("Fibromyalgia is a chronic pain condition.", None),
])
def test_finding_direction(sentence: str, direction: str | None) -> None:
    assert stance.finding_direction(sentence) == direction


def test_every_cue_is_data_with_a_known_category_and_direction() -> None:
    assert all(cue.direction in ("", *stance.DIRECTIONS) for cue in stance.CUES)
    assert all(cue.scope in ("clause", "sentence", "forward") for cue in stance.CUES)
    assert {cue.category for cue in stance.CUES} >= {"null", "direction", "difference", "negation", "hedge"}


# --- sample sizes ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "sizes"), [
    ("We studied 74 women with fibromyalgia and 30 healthy controls.", (74, 30)),
    ("Twenty FM patients and 15 age-matched healthy women took part.", (20, 15)),
    ("Patients with fibromyalgia (n = 25) and controls (n = 20) were studied.", (25, 20)),
    ("A total of 1,204 patients with fibromyalgia answered the survey.", (1204, None)),
    ("In 2019, 120 participants were enrolled.", (None, None)),
])
def test_sample_sizes(text: str, sizes: tuple[int | None, int | None]) -> None:
    assert stance.sample_sizes(text) == sizes


# --- the per-(article, cause) reader ----------------------------------------------------------------------------

def _read(abstract: list[tuple[str | None, str]] | str, hypothesis_id: str, *, title: str = "A study",
          design: str = "case_control", publication_types: tuple[str, ...] = ("Journal Article",),
          stance_rules: stance.StanceRules = STANCE_RULES) -> dict:
    """Tag one article as the store does and read its stance for one cause."""
    if isinstance(abstract, str):
        sections = [{"text": abstract, "label": None, "nlm_category": None}]
    else:
        sections = [{"text": text, "label": label, "nlm_category": label} for label, text in abstract]
    text = "\n\n".join(f"{s['label']}: {s['text']}" if s["label"] else s["text"] for s in sections)
    articles = pd.DataFrame([{"pmid": 1, "title": title, "abstract": text, "abstract_sections": sections,
                              "keywords": [], "mesh_terms": [], "publication_types": list(publication_types),
                              "corrections": [], "query_hypotheses": [hypothesis_id]}])
    result = tagging.tag_articles(articles, RULES)
    facets = result.facets.assign(design=design)
    frame = stance.read_stances(articles, result.tags, facets, stance_rules)
    assert list(frame.columns) == list(stance.STANCE_COLUMNS)
    rows = frame[frame["hypothesis_id"] == hypothesis_id].to_dict("records")
    assert len(rows) == 1
    return rows[0]


_METHODS = ("METHODS", "We studied 74 women with fibromyalgia and 30 healthy controls; substance P and serotonin "
                       "were measured in cerebrospinal fluid and serum.")


def test_a_structured_abstract_that_supports_keeps_its_sentence_section_cue_and_sizes() -> None:
    row = _read([("BACKGROUND", "Substance P is thought to be raised in fibromyalgia."), _METHODS,
                 ("RESULTS", "Response rates were high. CSF substance P was significantly higher in patients with "
                             "fibromyalgia than in healthy controls (p < 0.001)."),
                 ("CONCLUSIONS", "Nociceptive signalling is amplified.")], "substance_p")
    assert row == {
        "pmid": 1, "hypothesis_id": "substance_p", "stance": "supports", "evidence_kind": "comparison",
        "hedged": False, "section": "RESULTS",
        "sentence": "CSF substance P was significantly higher in patients with fibromyalgia than in healthy "
                    "controls (p < 0.001).",
        "cue": "higher", "n_patients": 74, "n_controls": 30, "confidence": "high", "confidence_reason": None,
    }


def test_the_opposite_direction_contradicts() -> None:
    row = _read([_METHODS, ("RESULTS", "Serum serotonin was higher in fibromyalgia patients than in controls.")],
                "serotonin")
    assert (row["stance"], row["cue"]) == ("contradicts", "higher")


def test_controls_named_first_swap_the_direction() -> None:
    row = _read([_METHODS, ("RESULTS", "Healthy controls had lower serotonin than patients with fibromyalgia.")],
                "serotonin")
    assert row["stance"] == "contradicts"


def test_no_difference_contradicts_a_prediction() -> None:
    row = _read([_METHODS, ("RESULTS", "Serum serotonin did not differ between fibromyalgia patients and "
                                       "healthy controls.")], "serotonin")
    assert (row["stance"], row["evidence_kind"], row["cue"]) == ("contradicts", "comparison", "did not differ")


def test_higher_in_csf_but_not_in_serum_is_mixed_with_both_sentences() -> None:
    row = _read([_METHODS, ("RESULTS", "CSF substance P was elevated in fibromyalgia patients compared with "
                                       "controls. Serum substance P did not differ between the groups.")],
                "substance_p")
    assert row["stance"] == "mixed"
    assert row["sentence"] == ("CSF substance P was elevated in fibromyalgia patients compared with controls.\n"
                               "Serum substance P did not differ between the groups.")
    assert row["cue"] == "elevated\ndid not differ"
    assert row["section"] == "RESULTS\nRESULTS"


def test_a_cause_only_in_background_methods_or_aims_is_no_finding() -> None:
    row = _read([("BACKGROUND", "Low serotonin has been proposed as a cause of fibromyalgia."),
                 ("OBJECTIVE", "We aimed to compare serotonin between patients and controls."), _METHODS,
                 ("RESULTS", "Pain thresholds were lower in patients."),
                 ("CONCLUSIONS", "Further studies of serotonin are needed.")], "serotonin")
    assert (row["stance"], row["sentence"], row["cue"]) == ("no_finding", None, None)


def test_a_finding_set_against_earlier_studies_still_counts() -> None:
    background = _read([_METHODS, ("CONCLUSIONS", "Previous studies have shown lower serotonin in fibromyalgia.")],
                       "serotonin")
    finding = _read([_METHODS, ("RESULTS", "In contrast to previous studies, serum serotonin did not differ between "
                                           "fibromyalgia patients and healthy controls.")], "serotonin")
    assert (background["stance"], finding["stance"]) == ("no_finding", "contradicts")


def test_a_finding_about_another_population_is_no_finding() -> None:
    row = _read([_METHODS, ("RESULTS", "In patients with rheumatoid arthritis, serum serotonin was significantly "
                                       "lower than in healthy controls.")], "serotonin")
    assert row["stance"] == "no_finding"


def test_a_null_against_another_patient_group_is_no_finding() -> None:
    row = _read([_METHODS, ("RESULTS", "Heart rate variability was similar between patients with lupus and "
                                       "fibromyalgia.")], "autonomic")
    healthy = _read([_METHODS, ("RESULTS", "Heart rate variability was similar between fibromyalgia and healthy "
                                           "controls.")], "autonomic")
    against_ra = _read([_METHODS, ("RESULTS", "Compared with patients with rheumatoid arthritis, patients with "
                                              "fibromyalgia had similar heart rate variability.")], "autonomic")
    subgroups = _read([_METHODS, ("RESULTS", "Heart rate variability did not differ between fibromyalgia patients "
                                             "with and without depression.")], "autonomic")
    assert (row["stance"], healthy["stance"]) == ("no_finding", "contradicts")
    assert (against_ra["stance"], subgroups["stance"]) == ("no_finding", "no_finding")


def test_a_result_in_healthy_volunteers_is_no_finding() -> None:
    row = _read([_METHODS, ("RESULTS", "Sleep deprivation reduced pain thresholds in young healthy adults.")],
                "sleep")
    assert row["stance"] == "no_finding"


def test_a_treatment_result_is_intervention_evidence() -> None:
    supported = _read([("METHODS", "Sixty patients with fibromyalgia received an SSRI or placebo."),
                       ("RESULTS", "The SSRI significantly reduced pain compared with placebo.")], "serotonin",
                      design="rct")
    refuted = _read([("METHODS", "Sixty patients with fibromyalgia received an SSRI or placebo."),
                     ("RESULTS", "The SSRI was not superior to placebo and did not improve pain.")], "serotonin",
                    design="rct")
    assert (supported["stance"], supported["evidence_kind"]) == ("supports", "intervention")
    assert (refuted["stance"], refuted["evidence_kind"]) == ("contradicts", "intervention")


def test_a_hedged_conclusion_is_flagged() -> None:
    row = _read([_METHODS, ("CONCLUSIONS", "Reduced heart rate variability in fibromyalgia may reflect "
                                           "autonomic dysfunction.")], "autonomic")
    assert (row["stance"], row["hedged"]) == ("supports", True)


def test_more_likely_is_a_comparison_not_a_hedge() -> None:
    row = _read([_METHODS, ("RESULTS", "Patients with fibromyalgia were more likely than controls to have "
                                       "fragmented sleep.")], "sleep")
    assert (row["stance"], row["hedged"], row["cue"]) == ("supports", False, "more likely")


def test_abnormal_counts_any_difference_and_associated_any_association() -> None:
    sleep = _read([_METHODS, ("RESULTS", "Slow-wave sleep was reduced in fibromyalgia patients compared with "
                                         "controls.")], "sleep")
    trauma = _read("Patients with fibromyalgia were asked about their history. Neck pain was common. "
                   "A whiplash injury was associated with a higher risk of fibromyalgia (odds ratio 2.1). "
                   "Physical trauma may trigger the syndrome.", "injury", design="observational")
    assert (sleep["stance"], trauma["stance"], trauma["evidence_kind"]) == ("supports", "supports", "association")


def test_an_unstructured_abstract_reads_its_last_sentences_only() -> None:
    abstract = ("Serotonin is reduced in fibromyalgia according to earlier reports. Serotonin levels were lower in "
                "depression. We recruited 40 patients with fibromyalgia and 40 healthy controls. Platelet "
                "serotonin was assayed. Serum serotonin did not differ between the groups. Serotonin therefore "
                "seems not to explain the pain.")
    row = _read(abstract, "serotonin")
    assert (row["stance"], row["section"], row["n_patients"], row["n_controls"]) == ("contradicts", None, 40, 40)
    assert row["sentence"] == "Serum serotonin did not differ between the groups."


def test_an_abbreviation_the_abstract_defines_counts_as_the_term() -> None:
    row = _read([("METHODS", "Substance P (SP) was measured in 30 women with fibromyalgia."),
                 ("RESULTS", "SP was threefold higher than in controls.")], "substance_p")
    assert (row["stance"], row["sentence"]) == ("supports", "SP was threefold higher than in controls.")


def test_a_protocol_has_no_finding_and_is_other_evidence() -> None:
    row = _read([("METHODS", "Patients will receive an SSRI or placebo; serotonin will be measured."),
                 ("RESULTS", "Serotonin is expected to be lower.")], "serotonin",
                publication_types=("Clinical Trial Protocol",))
    assert (row["stance"], row["evidence_kind"]) == ("no_finding", "other")


def test_a_review_conclusion_is_review_evidence() -> None:
    row = _read([("RESULTS", "Twelve studies were included. Pooled heart rate variability was significantly lower "
                             "in fibromyalgia than in controls.")], "autonomic", design="meta_analysis")
    assert (row["stance"], row["evidence_kind"]) == ("supports", "review")


def test_the_title_decides_only_where_the_abstract_does_not() -> None:
    row = _read("We examined patients with fibromyalgia. Blood samples were taken.", "substance_p",
                title="Elevated substance P in fibromyalgia")
    assert (row["stance"], row["section"]) == ("supports", "TITLE")


def test_the_baseline_gets_no_stance_row() -> None:
    articles = pd.DataFrame([{"pmid": 5, "title": "Fibromyalgia", "abstract": "", "abstract_sections": [],
                              "keywords": [], "mesh_terms": [], "publication_types": [], "corrections": []}])
    result = tagging.tag_articles(articles, RULES)
    assert list(result.tags["hypothesis_id"]) == ["fibromyalgia"]
    assert stance.read_stances(articles, result.tags, result.facets, STANCE_RULES).empty


def test_the_version_follows_expect_and_the_terms() -> None:
    edited = tuple(dataclasses.replace(h, expect="higher") if h.id == "serotonin" else h for h in SHIPPED)
    assert stance.compile_stance_rules(edited, RULES).version != STANCE_RULES.version
    assert stance.compile_stance_rules(SHIPPED, RULES).version == STANCE_RULES.version
    with_expect_edit = stance.compile_stance_rules(edited, tagging.compile_rules(edited))
    assert _read([_METHODS, ("RESULTS", "Serum serotonin was higher in fibromyalgia patients than in controls.")],
                 "serotonin", stance_rules=with_expect_edit)["stance"] == "supports"


def test_a_title_that_names_its_topic_is_no_finding() -> None:
    row = _read("We reviewed the literature on fibromyalgia. Forty articles were found.", "autonomic",
                title="Autonomic dysfunction in fibromyalgia: a narrative review", design="narrative_review")
    assert (row["stance"], row["evidence_kind"]) == ("no_finding", "review")


def test_two_clauses_on_one_cause_can_make_one_sentence_mixed() -> None:
    row = _read([_METHODS, ("RESULTS", "Tryptophan was significantly reduced in fibromyalgia, whereas serotonin "
                                       "did not differ from healthy controls.")], "serotonin")
    assert (row["stance"], row["cue"]) == ("mixed", "reduced\ndid not differ")
    assert row["sentence"] == ("Tryptophan was significantly reduced in fibromyalgia, whereas serotonin did not "
                               "differ from healthy controls.")


def test_normal_values_are_no_difference() -> None:
    row = _read([_METHODS, ("RESULTS", "Phosphocreatine recovery was normal in patients with fibromyalgia.")],
                "muscle")
    assert (row["stance"], row["cue"]) == ("contradicts", "was normal")


# --- the four steps, each on its own ------------------------------------------------------------------------------

from tracker.analysis.stance import reader  # noqa: E402  (the steps are the reader's own functions)
from tracker.analysis.stance.sentences import defined_abbreviations  # noqa: E402


@pytest.mark.parametrize(("text", "given", "place", "role"), [
    ("Heart rate variability was lower in patients than in controls.", None, "middle", "result"),
    ("Fibromyalgia is a chronic condition characterised by widespread pain and poor sleep.", None, "late",
     "background"),
    ("Cortisol was measured in saliva at waking.", None, "early", "background"),
    ("In conclusion, slow-wave sleep is reduced in fibromyalgia.", None, "middle", "conclusion"),
    ("Further studies of cortisol are needed.", "result", "late", "outlook"),
    ("Serotonin was lower in patients.", "method", "late", "method"),
    ("The patients were older.", None, "late", "result"),
    ("Platelet serotonin did not differ between patients and controls.", None, "middle", "result"),
    ("The patients were older.", None, "early", "background"),
])
def test_step_1_the_role_of_a_sentence(text: str, given: str | None, place: str, role: str) -> None:
    assert reader.sentence_role(text, given, place) == role


@pytest.mark.parametrize(("label", "category", "role"), [
    ("RESULTS", None, "result"), (None, "CONCLUSIONS", "conclusion"), ("MAIN OUTCOMES AND MEASURES", None, "method"),
    ("OBJECTIVES", None, "aim"), ("INTRODUCTION", None, "background"), ("CASE REPORT", None, "result"),
    ("CONCLUSIONS AND RELEVANCE", None, "conclusion"), (None, None, None),
])
def test_step_1_the_role_a_section_label_gives(label: str | None, category: str | None, role: str | None) -> None:
    assert reader.section_role(label, category) == role


@pytest.mark.parametrize(("text", "about_fibromyalgia", "population"), [
    ("Patients with fibromyalgia had lower HRV than controls.", False, "fibromyalgia"),
    ("HRV was lower than in controls.", True, "fibromyalgia"),
    ("HRV was lower than in controls.", False, "other"),
    ("HRV was lower in both patient groups than in controls.", True, "pooled"),
    ("Both FM and metabolic syndrome are associated with HPA axis dysregulation.", True, "pooled"),
    ("Patients with fibromyalgia and/or chronic fatigue syndrome had lower HRV.", True, "pooled"),
    ("In patients with migraine, HRV was lower than in controls.", True, "other"),
    ("Patients with postural tachycardia syndrome had higher COMPASS-31 scores.", True, "other"),
])
def test_step_2_whom_a_result_is_for(text: str, about_fibromyalgia: bool, population: str) -> None:
    assert reader.sentence_population(text, about_fibromyalgia) == population


@pytest.mark.parametrize(("text", "term", "listed"), [
    ("The programme improved pain, sleep quality and fatigue.", "sleep quality", True),
    ("Anxiety, pain, quality of life and the sleep quality index were higher after treatment.", "sleep quality", True),
    ("Improvements in sleep quality, flexibility, and cognitive skills were seen.", "sleep quality", True),
    # A marker among outcomes is still the marker; a list of physiological measures is no symptom list.
    ("The suit had effects on pain perception, muscle oxygenation and function.", "muscle oxygenation", False),
    ("Scores correlated with blood pressure, heart rate variability and baroreflex sensitivity.",
     "heart rate variability", False),
    ("Children had higher pain and anxiety than controls (p < 0.001), and lower heart rate variability.",
     "heart rate variability", False),
])
def test_step_3_a_symptom_in_a_list_is_not_the_construct(text: str, term: str, listed: bool) -> None:
    anchor = reader.Anchor(text.index(term), term, "term")
    assert reader.listed_with_symptoms(text, anchor) is listed


@pytest.mark.parametrize(("text", "expected"), [
    ("Electrochemical skin conductance (ESC) was measured, with the Central Sensitization Inventory (CSI-9).",
     {"ESC": "Electrochemical skin conductance", "CSI-9": "Central Sensitization Inventory"}),
    ("Hair cortisol concentrations (HCC) and transcutaneous vagus nerve stimulation (tVNS) were studied.",
     {"HCC": "Hair cortisol concentrations", "tVNS": "transcutaneous vagus nerve stimulation"}),
    ("Women (n = 20) improved (p < 0.05) as in earlier work (Fig. 2).", {}),
])
def test_step_3_abbreviations_the_abstract_defines(text: str, expected: dict[str, str]) -> None:
    assert defined_abbreviations(text) == expected


def test_step_4_direction_against_expect() -> None:
    lower = stance.Finding("lower", "lower", 10, 15, "direction")
    null = stance.Finding("no_difference", "did not differ", 10, 24, "null")
    text = "Serotonin was lower in fibromyalgia than in healthy controls."
    assert reader.finding_stance(text, lower, "lower", "comparison") == "supports"
    assert reader.finding_stance(text, lower, "higher", "comparison") == "contradicts"
    assert reader.finding_stance(text, lower, "abnormal", "comparison") == "supports"
    assert reader.finding_stance("Serotonin did not differ from healthy controls.", null, "lower",
                                 "comparison") == "contradicts"
    # Two active treatments compared: no null against health or placebo.
    assert reader.finding_stance("Serotonin did not differ between the two exercise groups.", null, "lower",
                                 "intervention", trial=True) is None
    assert reader.finding_stance("Serotonin did not differ between the drug and placebo groups.", null, "lower",
                                 "intervention", trial=True) == "contradicts"


# --- the error families of real abstracts, each in our own sentences ---------------------------------------------

_TRIAL = ("METHODS", "Sixty women with fibromyalgia were randomised to aerobic exercise or stretching for 12 weeks.")


@pytest.mark.parametrize(("abstract", "cause", "kwargs", "expected"), [
    # A symptom or outcome list read as a finding.
    ([_TRIAL, ("RESULTS", "Both programmes improved pain, sleep quality and fatigue (p < 0.01).")], "sleep",
     {"design": "rct"}, "no_finding"),
    ([_TRIAL, ("RESULTS", "The Pittsburgh sleep quality index improved more after exercise than after "
                          "stretching (p = 0.02).")], "sleep", {"design": "rct"}, "no_finding"),
    # Another population, or a pooled one.
    ([_METHODS, ("RESULTS", "Patients with fibromyalgia and/or chronic fatigue syndrome had lower heart rate "
                            "variability than healthy controls.")], "autonomic", {}, "no_finding"),
    ([_METHODS, ("RESULTS", "Heart rate variability was lower in both patient groups than in controls.")],
     "autonomic", {}, "no_finding"),
    ("Postural tachycardia syndrome is a form of dysautonomia. We studied autonomic function in 80 adults with "
     "postural tachycardia syndrome. Tilt testing and questionnaires were used. Fibromyalgia was a common "
     "comorbidity. Heart rate variability was lower in women than in men.",
     "autonomic", {"title": "Autonomic testing in postural tachycardia syndrome"}, "no_finding"),
    # A review's premise or background.
    ("Chronic primary pain includes migraine, fibromyalgia and irritable bowel syndrome. Studies support that "
     "HPA axis dysfunction and autonomic dysregulation underlie these comorbidities.", "stress_hormones",
     {"title": "Stress in migraine and other chronic pain", "design": "narrative_review"}, "no_finding"),
    # Speculation and interpretation.
    ([_METHODS, ("CONCLUSIONS", "These findings suggest that bile acid alterations are implicated in nociplastic "
                                "pain.")], "central_sensitisation", {}, "no_finding"),
    ([_METHODS, ("CONCLUSIONS", "Altered pain thresholds may result in the perception of widespread pain.")],
     "central_sensitisation", {}, "no_finding"),
    ([_METHODS, ("CONCLUSIONS", "Early-life stress may increase vulnerability to chronic pain.")],
     "stress_hormones", {}, "no_finding"),
    ([_METHODS, ("CONCLUSIONS", "The lower tear quality may be due to autonomic dysfunction.")], "autonomic", {},
     "no_finding"),
    # Nulls that are not contradictions.
    ([_TRIAL, ("RESULTS", "Heart rate variability did not differ between the exercise and stretching groups.")],
     "autonomic", {"design": "rct"}, "no_finding"),
    ([_METHODS, ("RESULTS", "Temporal summation correlated with pain (r = 0.40). The absence of similar "
                            "associations for other outcomes supports the specificity of this marker of "
                            "central sensitization.")], "central_sensitisation", {}, "supports"),
    ([_METHODS, ("RESULTS", "Choroidal thickness was not associated with autonomic symptoms in fibromyalgia.")],
     "autonomic", {}, "no_finding"),
    ([_METHODS, ("RESULTS", "The link between stress and pain was not mediated by cortisol; however, cortisol was "
                            "independently associated with pain (p = 0.009).")], "stress_hormones", {}, "supports"),
    ([_METHODS, ("RESULTS", "Thalamic connectivity was not associated with circulating endocannabinoids.")],
     "central_sensitisation", {}, "no_finding"),
    ([_METHODS, ("RESULTS", "Thalamic connectivity was not associated with pain severity.")],
     "central_sensitisation", {}, "contradicts"),
    ([_METHODS, ("RESULTS", "Patients in cluster 1 had higher cortisol than those in cluster 2.")],
     "stress_hormones", {}, "no_finding"),
    # Findings missed because the sentence names the measure, not the cause.
    ([("METHODS", "In 40 women with fibromyalgia and 30 healthy controls, electrochemical skin conductance (ESC) "
                  "was measured."), ("RESULTS", "ESC was lower in the fibromyalgia group than in controls "
                                                "(p = 0.01).")], "autonomic", {}, "supports"),
    ([("METHODS", "In 40 women with fibromyalgia and 30 healthy controls, autonomic function was assessed."),
      ("RESULTS", "Pupil size was larger in patients than in controls (p = 0.02).")], "autonomic", {}, "supports"),
    # A review whose conclusion synthesises the evidence.
    ("We searched four databases for studies of heart rate variability in fibromyalgia. Twenty studies were "
     "included. Studies consistently showed reduced heart rate variability in fibromyalgia compared with healthy "
     "controls.", "autonomic", {"design": "systematic_review", "title": "Heart rate variability in fibromyalgia"},
     "supports"),
    # A trigger counted beside fibromyalgia, not linked to it; and one linked.
    ("We studied 300 patients with postural tachycardia syndrome. Those with central sensitization had higher "
     "rates of fibromyalgia (17%), irritable bowel syndrome (34%) and headache (60%).", "comorbid_conditions",
     {"title": "Central sensitization in postural tachycardia syndrome"}, "no_finding"),
    ([_METHODS, ("RESULTS", "Fibromyalgia was more frequent in people with irritable bowel syndrome than in those "
                            "without (12% vs 3%, p < 0.01).")], "comorbid_conditions", {}, "supports"),
    # A treatment aim in a title, and an abnormality named as a premise.
    ("We enrolled 20 patients with fibromyalgia in an open pilot.", "central_sensitisation",
     {"title": "Neurofeedback for alleviating central sensitization in fibromyalgia"}, "no_finding"),
    ([_METHODS, ("CONCLUSIONS", "Emerging drugs target mitochondrial dysfunction.")], "muscle", {}, "no_finding"),
    # A meta-analysis of treatments that are not aimed at the cause: a null on its measure is no contradiction.
    ("We pooled randomised trials of exercise and education interventions in fibromyalgia. Twelve studies were "
     "included. The interventions had no significant effect on pressure pain thresholds (p > 0.05).",
     "central_sensitisation", {"design": "meta_analysis", "title": "Exercise for fibromyalgia"}, "no_finding"),
    # A concessive clause is a clause of its own: its null does not undo the finding beside it.
    ([_METHODS, ("RESULTS", "Serum serotonin was lower in fibromyalgia than in healthy controls, despite no "
                            "difference in pain.")], "serotonin", {}, "supports"),
    # A heart rate variability index named on its own.
    ([("METHODS", "We recorded heart rate variability in 30 women with fibromyalgia and 30 controls."),
      ("RESULTS", "SDNN was lower in patients than in controls (p = 0.004).")], "autonomic", {}, "supports"),
    # A treatment aimed at the cause (its term names it) improves the cause's symptom against sham: it supports;
    # participants described as people with fibromyalgia make the article one about it.
    ("Neuromodulation may help chronic pain. Adults with fibromyalgia received two weeks of active and sham "
     "stimulation in a crossover design. Diaries and actigraphy were collected. Pain decreased with active "
     "stimulation compared to sham (p < 0.001). Sleep quality improved with active stimulation compared to sham "
     "(p = 0.002).", "sleep", {"design": "rct", "title": "Pre-sleep alpha entrainment for chronic pain: a trial"},
     "supports"),
    # A treatment aimed at the cause that works, and a marker that moves with the benefit.
    ([("METHODS", "Thirty women with fibromyalgia received transcutaneous vagus nerve stimulation (tVNS) for four "
                  "weeks."), ("RESULTS", "After tVNS, pain fell and COMPASS-31 scores improved significantly "
                                         "(p < 0.05).")], "autonomic", {"design": "clinical_trial"}, "supports"),
])
def test_error_families_of_real_abstracts(abstract: list[tuple[str, str]] | str, cause: str, kwargs: dict,
                                          expected: str) -> None:
    assert _read(abstract, cause, **kwargs)["stance"] == expected


# --- confidence ---------------------------------------------------------------------------------------------------

def test_confidence_is_low_with_its_reasons() -> None:
    abbreviation = _read([("METHODS", "In 40 women with fibromyalgia, electrochemical skin conductance (ESC) was "
                                      "measured."), ("RESULTS", "ESC was lower than in controls (p = 0.01).")],
                         "autonomic")
    hedged = _read([_METHODS, ("CONCLUSIONS", "Reduced heart rate variability in fibromyalgia may reflect "
                                              "autonomic dysfunction.")], "autonomic")
    unstructured = _read("We studied 40 women with fibromyalgia and 40 controls. Blood was drawn. Autonomic "
                         "reactivity was blunted in the patients.", "autonomic")
    pooled = _read([_METHODS, ("RESULTS", "Heart rate variability was lower in both patient groups than in "
                                          "controls.")], "autonomic")
    assert (abbreviation["confidence"], abbreviation["confidence_reason"]) == (
        "low", "construct inferred from the abbreviation ESC")
    assert (hedged["stance"], hedged["confidence"], hedged["confidence_reason"]) == ("supports", "low", "hedged")
    assert unstructured["confidence"] == "low"
    assert "unstructured abstract" in unstructured["confidence_reason"]
    assert (pooled["stance"], pooled["confidence"], pooled["confidence_reason"]) == (
        "no_finding", "low", "a finding for a pooled population set aside")


def test_a_clear_result_and_a_plain_no_finding_are_high_confidence() -> None:
    clear = _read([_METHODS, ("RESULTS", "Heart rate variability was lower in patients with fibromyalgia than in "
                                         "healthy controls (p = 0.003).")], "autonomic")
    nothing = _read([("BACKGROUND", "Heart rate variability reflects autonomic function."), _METHODS],
                    "autonomic")
    assert (clear["stance"], clear["confidence"], clear["confidence_reason"]) == ("supports", "high", None)
    assert (nothing["stance"], nothing["confidence"], nothing["confidence_reason"]) == ("no_finding", "high", None)


def test_a_stop_without_its_space_still_ends_a_sentence() -> None:
    text = "Several questions remain.Both groups were small. Levels were 0.5 mg.Next."
    assert [text[a:b] for a, b in stance.split_sentences(text)] == [
        "Several questions remain.", "Both groups were small.", "Levels were 0.5 mg.Next."]


def test_sample_sizes_read_thin_spaces() -> None:
    assert stance.sample_sizes("Women with FM (n\u2009=\u200912) and controls (n\u2009=\u200910).") == (12, 10)


# --- what lets the reader skip a sentence or a scan -------------------------------------------------------------

from tracker.analysis.stance.cues import cue_matches  # noqa: E402
from tracker.analysis.stance.direction import has_finding, read_finding  # noqa: E402

_SKIPPABLE_OR_NOT = [
    "Serotonin did not differ between patients and controls.",
    "Patients had significantly higher substance P than controls; cortisol was measured at 8 am.",
    "Serum serotonin was measured by ELISA, and cortisol in saliva.",
    "Fibromyalgia is a chronic pain condition of unknown cause.",
    "These abnormalities were not seen in the controls.",
    "Pain decreased in both groups, whereas sleep quality improved only after the drug.",
    "Autonomic dysfunction is common in fibromyalgia.",
    "Study 12 of fibromyalgia and central sensitization",
]


@pytest.mark.parametrize("sentence", _SKIPPABLE_OR_NOT)
def test_a_sentence_without_a_finding_gives_none_wherever_the_cause_stands(sentence: str) -> None:
    readings = {read_finding(sentence, anchor) for anchor in range(len(sentence))}
    assert has_finding(sentence) == (readings != {None})


def test_has_finding_tells_both_kinds_apart() -> None:
    assert [has_finding(sentence) for sentence in _SKIPPABLE_OR_NOT] == [
        True, True, False, False, True, True, True, False]


_KIND_ABSTRACTS = [
    "We pooled twelve studies in a systematic review and meta-analysis.",
    "Patients were randomised to the drug or placebo for eight weeks.",
    "PATIENTS WERE RANDOMIZED TO THE DRUG OR\u2009PLACEBO.",
    "Women with fibromyalgia and healthy controls were compared.",
    "Serum serotonin was associated with pain severity.",
    "Serum serotonin was measured by ELISA.",
    "",
]


def _kind_read_alone(article) -> str:
    """The kind as the reader gives it, abstract by abstract in Python: the oracle for the batch."""
    from tracker.analysis.stance.reader import _DESIGN_KINDS, _PLACEBO_OR_RANDOMISED
    if article.protocol:
        return "other"
    if article.design in _DESIGN_KINDS:
        return _DESIGN_KINDS[article.design]
    for kind, found in (("review", cue_matches(article.whole, "review")),
                        ("intervention", _PLACEBO_OR_RANDOMISED.search(article.whole)),
                        ("comparison", cue_matches(article.whole, "comparator")),
                        ("association", cue_matches(article.whole, "association"))):
        if found:
            return kind
    return "other"


def test_abstract_kinds_of_a_batch_agree_with_each_abstract_read_alone() -> None:
    from tracker.analysis.stance.reader import _read_article, abstract_kinds
    articles = [_read_article(title, [{"text": text, "label": None, "nlm_category": None}], types, design,
                              (None, None))
                for text in _KIND_ABSTRACTS + _SKIPPABLE_OR_NOT
                for title, types, design in (("A study", [], "other"), ("A study", [], "rct"),
                                             ("Study protocol for a randomised trial", [], "other"))]
    kinds = abstract_kinds(articles)
    assert kinds == [_kind_read_alone(article) for article in articles]
    assert set(kinds) == {"review", "intervention", "comparison", "association", "other"}
