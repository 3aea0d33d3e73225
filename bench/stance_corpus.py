"""A labelled synthetic stance corpus: abstracts built from templates, each (article, cause) pair with its gold
stance, for `bench_stance.py` to set beside the real labelled pairs.

Templates are the project's own sentences, written in the shapes real abstracts use (structured and unstructured,
results beside background, aims, methods, outcome and symptom lists, other or pooled populations, speculation,
nulls between two active arms, review premises and syntheses, abbreviations the abstract defines). The corpus is
a stand-in for PubMed's plumbing: the real labelled pairs, not these, judge the reading.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Per cause: the measures (the cause's construct, as an abstract names it), the direction its `expect` predicts
# ("" for abnormal/associated: either direction or an association), and an abbreviation an abstract may define.
CAUSES: dict[str, dict] = {
    "substance_p": {"measures": ("cerebrospinal fluid substance P", "serum substance P", "substance P levels"),
                    "expect": "higher", "abbreviation": ("substance P", "SP")},
    "serotonin": {"measures": ("serum serotonin", "platelet serotonin", "plasma tryptophan"),
                  "expect": "lower", "abbreviation": ("5-hydroxytryptamine", "5-HT")},
    "sleep": {"measures": ("slow-wave sleep", "sleep efficiency on polysomnography", "total sleep time on actigraphy"),
              "expect": "", "abbreviation": ("polysomnography", "PSG")},
    "autonomic": {"measures": ("heart rate variability", "baroreflex sensitivity", "sympathetic skin response"),
                  "expect": "", "abbreviation": ("electrochemical skin conductance", "ESC")},
    "muscle": {"measures": ("phosphocreatine recovery", "muscle oxygenation", "mitochondrial respiration"),
               "expect": "", "abbreviation": ("muscle oxygenation", "SmO2")},
    "stress_hormones": {"measures": ("salivary cortisol", "the cortisol awakening response", "plasma ACTH"),
                        "expect": "", "abbreviation": ("hair cortisol concentration", "HCC")},
    "central_sensitisation": {"measures": ("temporal summation of pain", "conditioned pain modulation",
                                           "thalamic blood flow"),
                              "expect": "", "abbreviation": ("conditioned pain modulation", "CPM")},
    "injury": {"measures": ("a whiplash injury", "a motor vehicle accident", "physical trauma"),
               "expect": "associated", "abbreviation": None},
    "infection": {"measures": ("hepatitis C infection", "Epstein-Barr virus infection", "long COVID"),
                  "expect": "associated", "abbreviation": None},
    "comorbid_conditions": {"measures": ("irritable bowel syndrome", "hypothyroidism", "rheumatoid arthritis"),
                            "expect": "associated", "abbreviation": None},
}
_OTHER_POPULATIONS = ("migraine", "chronic fatigue syndrome", "long COVID", "multiple sclerosis", "low back pain",
                      "postural tachycardia syndrome")
_SYMPTOM_OUTCOMES = {"sleep": "sleep quality", "autonomic": "autonomic symptoms", "stress_hormones": "perceived stress",
                     "central_sensitisation": "pain sensitivity", "muscle": "physical fitness"}
_FILLER_RESULTS = (
    "Pain intensity was higher in patients than in controls (p < 0.001).",
    "Depression and anxiety scores were elevated in the patient group.",
    "The groups were similar in age and body mass index.",
    "Fibromyalgia Impact Questionnaire scores correlated with fatigue (r = 0.51).",
    "Two participants withdrew because of adverse events.",
)
_FILLER_BACKGROUND = (
    "Fibromyalgia is a chronic condition of widespread pain, fatigue and cognitive complaints.",
    "Its mechanisms remain poorly understood.",
    "Treatment options are limited and often disappointing.",
)


@dataclass
class LabelledArticle:
    pmid: int
    title: str
    sections: list[dict]
    publication_types: list[str]
    design: str
    gold: dict[str, str]  # cause → stance
    shape: str


def _p(rng: random.Random, significant: bool) -> str:
    return f"p = 0.0{rng.randint(1, 4)}" if significant else f"p = 0.{rng.randint(12, 88)}"


def _direction_word(expect: str, rng: random.Random, opposite: bool = False) -> str:
    direction = expect if expect in ("higher", "lower") else rng.choice(("higher", "lower"))
    if opposite:
        direction = {"higher": "lower", "lower": "higher"}[direction]
    return rng.choice({"higher": ("higher", "increased", "elevated"),
                       "lower": ("lower", "reduced", "decreased")}[direction])


def _finding(cause: str, stance: str, rng: random.Random, measure: str | None = None) -> tuple[str, str]:
    """A results sentence with `stance` on the cause, and the name of its shape."""
    spec = CAUSES[cause]
    measure = measure or rng.choice(spec["measures"])
    capital = measure[0].upper() + measure[1:]
    if spec["expect"] == "associated":
        if stance == "supports":
            return rng.choice((
                (f"A history of {measure} was associated with a higher risk of fibromyalgia "
                 f"(odds ratio {rng.randint(15, 40) / 10}, 95% CI 1.2-4.1).", "trigger_association"),
                (f"Fibromyalgia was more frequent in people with {measure} than in those without "
                 f"({rng.randint(20, 40)}% vs {rng.randint(3, 12)}%, {_p(rng, True)}).", "trigger_prevalence"),
            ))
        return (f"{capital} was not associated with the onset of fibromyalgia (odds ratio 1.0, "
                f"{_p(rng, False)}).", "trigger_null")
    if stance == "supports":
        return rng.choice((
            (f"{capital} was significantly {_direction_word(spec['expect'], rng)} in patients with fibromyalgia than "
             f"in healthy controls ({_p(rng, True)}).", "comparison"),
            (f"Compared with healthy controls, women with fibromyalgia showed {_direction_word(spec['expect'], rng)} "
             f"{measure} ({_p(rng, True)}).", "comparison_fronted"),
        ) + (() if spec["expect"] else (
            # An association with the symptoms says nothing about a predicted direction: abnormal causes only.
            (f"In the fibromyalgia group, {measure} correlated with pain severity (r = 0.4{rng.randint(0, 9)}, "
             f"{_p(rng, True)}).", "association"),)))
    if stance == "contradicts":
        if spec["expect"] in ("higher", "lower") and rng.random() < 0.4:
            return (f"{capital} was {_direction_word(spec['expect'], rng, opposite=True)} in patients with "
                    f"fibromyalgia than in healthy controls ({_p(rng, True)}).", "opposite")
        return rng.choice((
            (f"{capital} did not differ between patients with fibromyalgia and healthy controls "
             f"({_p(rng, False)}).", "null"),
            (f"There was no significant difference in {measure} between the fibromyalgia and control groups.",
             "null_no_difference"),
        ))
    raise ValueError(stance)


def _no_finding(cause: str, rng: random.Random) -> tuple[list[tuple[str, str]], str]:
    """Sentences (section, text) that name the cause without a finding on it, and the shape's name."""
    spec = CAUSES[cause]
    measure = rng.choice(spec["measures"])
    capital = measure[0].upper() + measure[1:]
    shapes = [
        ([("BACKGROUND", f"Altered {measure} has been proposed as a mechanism of fibromyalgia.")], "background"),
        ([("OBJECTIVE", f"We aimed to compare {measure} between patients with fibromyalgia and controls.")], "aim"),
        ([("METHODS", f"{capital} was measured using a standard protocol at baseline and after 12 weeks.")], "method"),
        ([("RESULTS", f"In patients with {rng.choice(_OTHER_POPULATIONS)}, {measure} was significantly "
                      f"{_direction_word(spec['expect'], rng)} than in healthy controls ({_p(rng, True)}).")],
         "other_population"),
        ([("RESULTS", f"Patients with fibromyalgia or {rng.choice(_OTHER_POPULATIONS)}, analysed as one group, "
                      f"showed {_direction_word(spec['expect'], rng)} {measure} than controls ({_p(rng, True)}).")],
         "pooled_population"),
        ([("CONCLUSIONS", f"Future studies should examine whether {measure} contributes to fibromyalgia.")],
         "outlook"),
        ([("RESULTS", f"{capital} did not differ between the aerobic exercise and the stretching groups "
                      f"({_p(rng, False)}).")], "null_between_active_arms"),
        ([("BACKGROUND", f"Previous studies support that {measure} underlies these comorbid pain conditions.")],
         "review_premise"),
    ]
    if cause in _SYMPTOM_OUTCOMES:
        outcome = _SYMPTOM_OUTCOMES[cause]
        shapes.append(([("RESULTS", f"After eight weeks the programme improved pain, {outcome}, fatigue and mood "
                                    f"({_p(rng, True)}).")], "symptom_list"))
        shapes.append(([("CONCLUSIONS", f"These findings suggest that {outcome} may be worth addressing in "
                                        f"fibromyalgia care.")], "speculation"))
    sentences, shape = rng.choice(shapes)
    return list(sentences), shape


def _assemble(rng: random.Random, sentences: list[tuple[str, str]], structured: bool) -> list[dict]:
    order = {"BACKGROUND": 0, "OBJECTIVE": 1, "METHODS": 2, "RESULTS": 3, "CONCLUSIONS": 4}
    by_label: dict[str, list[str]] = {label: [] for label in order}
    by_label["BACKGROUND"].append(rng.choice(_FILLER_BACKGROUND))
    by_label["METHODS"].append(f"We studied {rng.randint(20, 300)} women with fibromyalgia and "
                               f"{rng.randint(15, 120)} healthy controls.")
    by_label["RESULTS"].append(rng.choice(_FILLER_RESULTS))
    by_label["CONCLUSIONS"].append("These data add to the understanding of fibromyalgia.")
    for label, text in sentences:
        by_label[label].insert(rng.randint(0, len(by_label[label])), text)
    if structured:
        return [{"text": " ".join(texts), "label": label, "nlm_category": label}
                for label, texts in by_label.items() if texts]
    return [{"text": " ".join(text for label in order for text in by_label[label]), "label": None,
             "nlm_category": None}]


def labelled_corpus(count: int, seed: int = 0) -> list[LabelledArticle]:
    """`count` articles, each planting one cause with a drawn gold stance and sometimes a second cause named
    without a finding (a gold `no_finding` pair)."""
    rng = random.Random(seed)
    articles = []
    causes = tuple(CAUSES)
    for number in range(count):
        cause = rng.choice(causes)
        stance = rng.choices(("supports", "contradicts", "mixed", "no_finding"), weights=(35, 15, 5, 45))[0]
        sentences: list[tuple[str, str]] = []
        shape = stance
        if stance in ("supports", "contradicts"):
            text, shape = _finding(cause, stance, rng)
            sentences.append(("RESULTS", text))
        elif stance == "mixed":
            first, second = rng.sample(CAUSES[cause]["measures"], 2)
            sentences += [("RESULTS", _finding(cause, "supports", rng, first)[0]),
                          ("RESULTS", _finding(cause, "contradicts", rng, second)[0])]
        else:
            planted, shape = _no_finding(cause, rng)
            sentences += planted
        abbreviation = CAUSES[cause]["abbreviation"]
        if stance == "supports" and abbreviation and rng.random() < 0.2 and CAUSES[cause]["expect"] != "associated":
            long_form, short = abbreviation
            sentences = [("METHODS", f"We measured {long_form} ({short}) in every participant."),
                         ("RESULTS", f"{short} was significantly {_direction_word(CAUSES[cause]['expect'], rng)} in "
                                     f"the fibromyalgia group than in the control group ({_p(rng, True)}).")]
            shape = "abbreviation"
        gold = {cause: stance}
        if rng.random() < 0.3:
            other = rng.choice([c for c in causes if c != cause])
            planted, _ = _no_finding(other, rng)
            if not any(label == "RESULTS" and "fibromyalgia or" not in text for label, text in planted):
                sentences += planted
                gold[other] = "no_finding"
        structured = rng.random() < 0.7
        articles.append(LabelledArticle(
            pmid=90_000_000 + number, title=f"A study of fibromyalgia number {number}",
            sections=_assemble(rng, sentences, structured), publication_types=["Journal Article"],
            design="case_control" if stance != "no_finding" or shape != "null_between_active_arms" else "rct",
            gold=gold, shape=shape))
    return articles
