"""The patients an abstract states it studied, in the forms the stance reader's own patterns miss."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tracker.analysis.patients import count_value, may_state_patients, stated_patients
from tracker.analysis.stance import sample_sizes


STATED = [
    ("We studied 105 patients fulfilling the ACR criteria and 144 healthy controls.", 105),
    ("Data analysis was conducted with 21 patients and 20 healthy subjects.", 21),
    ("We enrolled 43 patients with FMS reporting orthostatic intolerance and 20 age- and sex-matched healthy "
     "controls.", 43),
    ("N = 85 patients were considered for the analysis and compared to 35 healthy subjects.", 85),
    ("Forty-six participants with fibromyalgia and 41 healthy controls were recruited.", 46),
    ("Twenty-two female fibromyalgia patients and 22 female HCs were recruited.", 22),
    ("Forty-one girls with JFM and 40 pain-free adolescents completed a scan.", 41),
    ("A total of 62 women took part, 31 of them diagnosed with fibromyalgia and 31 healthy controls.", 31),
    ("Fifty-one postmenopausal women (26 FM, 25 matched controls) underwent testing.", 26),
    ("Volumes differed (n = 18 fibromyalgia; n = 15 controls).", 18),
    ("The sample consisted of 33 women with a clinical diagnosis of FM and 33 healthy controls.", 33),
    ("A total of 52 FMS patients (30 long-term, 22 short-term) and 49 healthy controls were scanned.", 52),
    # not a sample of fibromyalgia: another condition, a dose, an age, or controls alone
    ("We compared 142 adults with chronic back pain relative to 51 pain-free controls.", None),
    ("Doses of 150 mg were given to 30 patients twice daily.", None),
    ("Patients were aged 56 ± 1.01 years and 34 healthy controls took part.", None),
    ("In 27 healthy subjects pain thresholds were measured.", None),
]


@pytest.mark.parametrize(("text", "patients"), STATED)
def test_stated_patients(text: str, patients: int | None) -> None:
    assert stated_patients(text) == patients


@pytest.mark.parametrize(("text", "value"), [("1,455", 1455), ("forty-six", 46), ("Twenty two", 22),
                                             ("twelve", 12), ("0", None), ("2000000", None)])
def test_count_value(text: str, value: int | None) -> None:
    assert count_value(text) == value


def test_sample_sizes_reads_patients_beside_controls_and_keeps_the_controls() -> None:
    assert sample_sizes("We studied 105 patients fulfilling the ACR criteria and 144 healthy controls.") == (105, 144)
    # the stance reader's own forms still read as before
    assert sample_sizes("74 women with fibromyalgia and 30 healthy controls") == (74, 30)
    assert sample_sizes("FM patients (n = 25) were scanned.") == (25, None)


@pytest.mark.parametrize(("text", "sizes"), [
    ("We studied 56 FMS patients and 34 healthy controls.", (56, 34)),
    ("Twelve FM patients and 12 age-matched controls were scanned.", (12, 12)),
    ("Thirty women with FM were compared with 28 pain-free women.", (30, 28)),
])
def test_the_controls_are_the_count_before_the_control_words_not_the_patients_before_them(
        text: str, sizes: tuple[int, int]) -> None:
    assert sample_sizes(text) == sizes


# Python's \s, \w, \d and case folding reach characters RE2's ASCII classes do not: the screen must still let
# such a text through wherever Python reads a statement in it.
_UNICODE_TWINS = [("We studied 105\u00a0patients fulfilling the ACR criteria and 144 healthy controls.", 105),
                  ("We studied 105\x1cpatients fulfilling the ACR criteria and 144 healthy controls.", 105),
                  ("Forty-one girls with JFM and 40 pain\u2011free adolescents were seen in Zürich.", 41),
                  ("We studied 46 patient\u017f with fibromyalgia.", 46)]  # a long s: "s" when case is ignored


@pytest.mark.parametrize(("text", "patients"), STATED + _UNICODE_TWINS)
def test_the_screen_passes_every_text_that_states_patients(text: str, patients: int | None) -> None:
    assert stated_patients(text) == patients
    if patients is not None:
        assert may_state_patients(pa.array([text], pa.large_string())) == [True]


@pytest.mark.parametrize("text", ["Pain fell by 12 points after 8 weeks.", "TNF-α rose in São Paulo (p < 0.05).",
                                  "No sample is stated here."])
def test_the_screen_spares_texts_that_state_no_patients(text: str) -> None:
    assert stated_patients(text) is None
    assert may_state_patients(pa.array([text], pa.large_string())) == [False]
