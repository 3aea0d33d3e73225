"""The cue table: the rules of the stance reader as data, in the manner of medspaCy's ConText rules."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from tracker.analysis.screen import ScreenSet, union_screen

# --- the cues --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cue:
    """One rule: a regular expression (case-insensitive, at word boundaries), its category, the direction it
    gives a finding ("" when it gives none) and its scope ("clause", "sentence", or "forward" for a negation:
    the cues that follow it, up to `NEGATION_SCOPE_WORDS` words, within the clause)."""

    pattern: str
    category: str
    direction: str = ""
    scope: str = "clause"


_N = r"(?:statistically\s+|clinically\s+)?"  # "no statistically significant ..."
_SIG = r"(?:statistically\s+)?(?:significant(?:ly)?|marked(?:ly)?|substantial(?:ly)?)"
_BE = r"(?:was|were|is|are|been|be|remained|appeared|seemed)"
_GROUP_NOUNS = r"(?:groups?|arms?|conditions|treatments|sessions|time\s*points|visits)"

# Categories: "null" (no difference: a finding by itself), "direction" (higher / lower), "difference" (a
# significant difference or association without a direction), "benefit" (a treatment's effect), "state" (an
# abnormal state named: a finding in a results sentence, a topic in a title), "negation" (turns what follows in
# its scope into no difference), "pseudo_negation" (looks like a negation, is none), "group_label" (a group named
# by what its members lack), "hedge", "not_a_result" (an aim, method, outlook or background), "anaphoric_null" (a
# null about the difference just stated: it decides the sentence), "within_groups" (a change in each group, no
# difference between them); who the sentence is about: "fibromyalgia", "fibromyalgia_population", "pooled",
# "other_population", "patient_comparator", "patient_subgroups", "healthy_comparator", "inactive_comparator";
# what kind of evidence: "comparator", "association", "treatment", "review"; the sentence's role where no label
# gives it: "role_result", "role_conclusion", "role_background", "evidential"; what the term names: "symptom",
# "treatment_noun", "trigger_link", "occurrence", "term_population"; what a finding is not: "mediation",
# "null_elsewhere", "speculation", "consequence", "interpretation".
CUES: tuple[Cue, ...] = (
    # --- no difference
    Cue(r"no\s+(?:\w+\s+){0,2}(?:differences?|changes?|effects?|associations?|correlations?|relationships?|"
        r"improvements?|increases?|decreases?|reductions?|alterations?|abnormalit(?:y|ies)|impact)"
        r"(?:\s+(?:was|were)\s+(?:found|observed|seen|detected|noted|shown))?", "null", "no_difference"),
    Cue(r"no\s+" + _N + r"significant", "null", "no_difference"),
    Cue(r"(?:did|does|do)\s+not\s+(?:\w+\s+)?(?:differ|change|vary|correlate|predict|affect|alter|influence|"
        r"improve|increase|decrease|reduce|show|reach|demonstrate|reveal|find|detect|yield|lead|result|"
        r"modify|impact|associate|relate|contribute|moderate|mediate|explain|account|support|confirm)\w*",
        "null", "no_difference"),
    Cue(r"(?:was|were|is|are|has|have|had)\s+not\s+(?:been\s+)?(?:\w+\s+)?(?:different|altered|changed|"
        r"affected|associated|correlated|related|linked|influenced|improved|increased|decreased|reduced|"
        r"elevated|significant|predictive|observed|found|detected)\w*", "null", "no_difference"),
    Cue(r"not\s+" + _N + r"significant(?:ly)?(?:\s+(?:different|differ\w*|changed|affected|associated|"
        r"correlated|related|higher|lower|greater|increased|decreased|reduced|improved|elevated))?",
        "null", "no_difference"),
    Cue(r"non-?\s?significant(?:ly)?|insignificant(?:ly)?|\bn\.?s\.?(?=\W)", "null", "no_difference"),
    Cue(r"failed\s+to\s+(?:\w+\s+)?(?:show|reach|demonstrate|detect|find|differ|improve|reduce|increase|"
        r"decrease|change|affect|achieve|produce|predict|correlate)\w*", "null", "no_difference"),
    Cue(r"(?:lack|absence)\s+of\s+(?:a\s+|any\s+)?(?:\w+\s+)?(?:differences?|effects?|associations?|"
        r"correlations?|relationships?|changes?|improvements?|benefits?|efficacy)", "null", "no_difference"),
    Cue(r"" + _BE + r"\s+(?:\w+\s+){0,2}(?:similar|comparable|equivalent|identical|unchanged|unaltered|"
        r"unaffected|stable|indistinguishable|equal)\b", "null", "no_difference"),
    Cue(r"(?:similar|comparable|equivalent|indistinguishable)\s+(?:\w+\s+){0,3}(?:between|among|across|"
        r"in\s+(?:both|all|the\s+two|the\s+three)|to\s+(?:that|those)\s+(?:of|in)|for\s+(?:both|all))",
        "null", "no_difference"),
    Cue(r"(?:similar|comparable)\s+(?:\w+\s+){0,3}(?:in|for|with)\s+(?:\w+\s+){0,4}" + _GROUP_NOUNS,
        "null", "no_difference"),
    Cue(r"(?:remained|was|were)\s+(?:\w+\s+)?(?:unchanged|stable|constant|unaffected)", "null", "no_difference"),
    Cue(r"(?:remained|was|were|is|are)\s+(?:\w+\s+)?(?:normal|within\s+(?:the\s+)?normal\s+(?:range|limits))",
        "null", "no_difference"),
    Cue(r"did\s+not\s+(?:significantly\s+)?(?:differ|change)|neither\s+\w+\s+nor", "null", "no_difference"),
    Cue(r"without\s+(?:a\s+|any\s+)?(?:significant\s+)?(?:differences?|changes?|effects?|improvement)",
        "null", "no_difference"),
    Cue(r"no\s+evidence\s+(?:of|for|that)", "null", "no_difference"),
    Cue(r"did\s+not\s+(?:reach|attain|achieve)\s+(?:statistical\s+)?significance", "null", "no_difference"),
    # A trend is a result that missed significance.
    Cue(r"tend(?:ed|s)?\s+to(?:wards?)?|trend(?:ed|s)?\s+(?:to|toward|towards|for)|(?:a|showed\s+a|positive)\s+trend|"
        r"marginal(?:ly)?(?:\s+significant)?|borderline(?:\s+significant)?", "null", "no_difference"),
    # A null that points back at the difference the clause before stated ("... lower, but the difference was not
    # significant"): it decides that clause too.
    Cue(r"(?:the|this|these|such|that|those)\s+(?:\w+\s+)?differences?\s+(?:\w+\s+){0,5}?(?:was|were|did|does|is|"
        r"are)\s+(?:not|no\s+longer)|(?:the|this|these)\s+(?:\w+\s+)?differences?\s+(?:was|were)\s+"
        r"(?:insignificant|non-?significant)|(?:but|although|though|yet)\s+(?:this\s+was\s+|it\s+was\s+|were\s+|"
        r"was\s+)?not\s+(?:statistically\s+)?significant(?:ly)?|this\s+(?:was|did)\s+not\s+(?:statistically\s+)?"
        r"(?:significant|reach)", "anaphoric_null", "no_difference", scope="sentence"),
    # A change within each group is no difference between them ("pain decreased in both groups").
    Cue(r"(?:in|for|of|within)\s+both\s+(?:\w+\s+){0,2}(?:groups|arms|treatments|conditions|cohorts)|"
        r"both\s+(?:\w+\s+){0,2}(?:groups|arms|treatments|modalities|doses)\s+(?:\w+\s+)?(?:showed|had|"
        r"experienced|led|provided|improved|decreased|increased|reduced)|in\s+(?:either|each)\s+(?:\w+\s+)?group|"
        r"in\s+all\s+(?:\w+\s+)?groups", "within_groups", "no_difference"),
    # --- directions
    Cue(r"(?:higher|increased?|increases|increasing|elevated|elevation|raised|greater|enhanced|augmented|"
        r"exaggerated|amplified|heightened|rise|rose|risen|grew|larger|longer|prolonged|more\s+(?:frequent(?:ly)?|"
        r"common(?:ly)?|likely|often|prevalent|severe|pronounced|intense)|excess(?:ive)?|overexpress\w*|"
        r"upregulat\w*|up-regulat\w*|hyper\w*activ\w*|exceed\w*|doubled|tripled|threefold|twofold|"
        r"(?:two|three|four|\d(?:\.\d+)?)-fold(?:\s+higher)?|gain(?:ed)?)", "direction", "higher"),
    Cue(r"(?:lower|decreased?|decreases|decreasing|reduced|reductions?|reduces?|reducing|diminished|"
        r"attenuated|blunted|depressed|impaired|impairment|weaker|smaller|shorter|fewer|less\s+(?:frequent(?:ly)?|"
        r"common(?:ly)?|likely|often|prevalent|severe|pronounced|efficient|intense)|declined?|declines|"
        r"drop(?:ped)?|fell|fallen|loss|lost|deficien(?:t|cy|cies)|deficits?|depleted|depletion|"
        r"downregulat\w*|down-regulat\w*|suppressed|lowered|low(?=\s+(?:levels?|concentrations?|serum|plasma|"
        r"csf|activity|values?)))", "direction", "lower"),
    # A treatment's effect: a finding in a result, an aim in a title ("... for alleviating central sensitization").
    Cue(r"improve[sd]?|improvements?|improving|alleviat\w*|relie(?:f|ved)|benefi(?:t|ts|cial)|"
        r"effective(?:ly|ness)?|efficacy|efficacious|worsen\w*", "benefit", "different"),
    # --- differences and associations without a direction
    Cue(_SIG + r"\s+(?:\w+\s+)?(?:differ\w*|changes?|changed|effects?|associat\w*|correlat\w*|"
        r"predict\w*|relat\w*|alter\w*|interactions?|contribut\w*)", "difference", "different"),
    Cue(r"differ(?:ed|s)?\s+(?:\w+\s+)?significantly|significantly\s+differ\w*", "difference", "different"),
    Cue(r"(?:positively|negatively|inversely|independently|strongly|moderately|weakly|directly)?\s*"
        r"(?:associated|correlated|linked|related)\s+(?:\w+\s+)?(?:with|to)|correlat(?:ion|ions|ed)|"
        r"associations?\s+(?:between|of|with)|predict(?:ed|s|or|ors|ive)|risk\s+factors?|"
        r"(?:odds|hazard|risk)\s+ratios?|\bOR\b\s*[=:]|\bHR\b\s*[=:]|\bRR\b\s*[=:]", "difference", "different"),
    Cue(r"(?:abnormal(?:ities|ity|ly)?|altered|alterations?|aberrant|dysregulat\w*|dysfunction\w*|disturb\w*|"
        r"disrupt\w*|deranged)", "state", "different"),
    Cue(r"differences?\s+(?:\w+\s+){0,3}(?:between|in)\s+(?:\w+\s+){0,6}(?:groups?|patients|controls)|"
        r"differed\s+(?:from|between)|(?:different|distinct)\s+from", "difference", "different"),
    Cue(r"" + _SIG, "difference", "different"),
    Cue(r"p\s*(?:value\s*)?(?:<|&lt;|\u2264|=)\s*0?\.0[0-4]\d*|p\s*(?:<|&lt;|\u2264)\s*0?\.05\b|"
        r"p\s*(?:<|&lt;)\s*0?\.00\d*|p\s*=\s*0?\.0[0-4]\d*", "difference", "different"),
    Cue(r"p\s*(?:value\s*)?(?:>|&gt;|\u2265)\s*0?\.\d+|p\s*=\s*0?\.(?:0[5-9]|[1-9])\d*|p\s*=\s*1(?:\.0+)?\b",
        "null", "no_difference"),
    # --- negation and what is not one
    Cue(r"not|no|none|never|neither|nor|cannot|can't|didn't|did\s+not|failed\s+to|unable\s+to|absence\s+of|"
        r"lack(?:ed|ing)?\s+(?:of\s+)?", "negation", scope="forward"),
    # A group named by what its members lack ("compared with patients with no ESC abnormalities"): no null.
    Cue(r"(?:patients|those|subjects|individuals|women|men|participants|people|children)\s+(?:with|having|showing)"
        r"\s+no\b", "group_label", scope="clause"),
    Cue(r"not\s+only|no\s+longer|whether\s+or\s+not|not\s+(?:yet|necessarily|always|fully|entirely)|"
        r"no\s+(?:doubt|matter)|not\s+(?:previously|been\s+(?:previously|well))|"
        r"(?:could|can)\s+not\s+be\s+(?:excluded|ruled)", "pseudo_negation"),
    # --- hedges
    Cue(r"may|might|could|suggest(?:s|ed|ing|ive)?|possibl[ey]|potential(?:ly)?|appear(?:s|ed)?|seem(?:s|ed)?|"
        r"(?<!more\s)(?<!less\s)likely|preliminary|presumabl[ey]|perhaps|putative(?:ly)?|hypothes[iz]\w*|speculat\w*|indicat(?:e|es|ing)\s+"
        r"a\s+(?:possible|potential)", "hedge", scope="sentence"),
    # --- not a result: aims, methods, outlook, background
    Cue(r"(?:we|this\s+study|the\s+present\s+study|the\s+study|this\s+review|this\s+protocol)\s+"
        r"(?:\w+\s+)?(?:aim(?:s|ed)?|sought|seeks?|set\s+out|intend\w*|plan\w*|propose[sd]?|will)|"
        r"(?:aims?|aimed|objectives?|purpose|goal)\s+(?:of|was|is|were|to)|(?:was|were)\s+(?:measured|assessed|"
        r"evaluated|recorded|collected|determined|analy[sz]ed|quantified|examined)\s+(?:using|by|with|in|at|before)|"
        r"will\s+be|would\s+be\s+(?:needed|required|useful)|(?:is|are)\s+(?:needed|required|warranted)|"
        r"(?:further|future|more|larger)\s+(?:\w+\s+)?(?:studies|research|trials|investigations?|work)|"
        r"remains?\s+(?:unclear|unknown|to\s+be|controversial|elusive)|(?:is|are)\s+(?:unclear|unknown)|"
        r"(?:has|have)\s+been\s+(?:\w+\s+)?(?:proposed|suggested|hypothesi[sz]ed|implicated|reported)|"
        r"previous(?:ly)?\s+(?:\w+\s+)?(?:studies|research|reports|work)\s+(?:have|has)\s+(?:\w+\s+)?(?:shown|"
        r"reported|found|suggested|demonstrated)|it\s+is\s+(?:known|thought|believed)|"
        r"to\s+(?:investigate|examine|evaluate|assess|determine|explore|compare|clarify|test)\s+(?:whether|if|the)",
        "not_a_result", scope="sentence"),
    # --- who the sentence is about
    Cue(r"fibromyalgi\w*|fibrositis|FMS?|JFM|JFMS|FMSs|FM-like|(?:animal|rat|mouse|murine|rodent)\s+models?|"
        r"models?\s+of\s+(?:fibromyalgia|FM|widespread\s+pain|chronic\s+(?:widespread\s+)?pain)|"
        r"reserpine\w*", "fibromyalgia", scope="sentence"),
    Cue(r"rheumatoid\s+arthritis|\bRA\b|osteoarthritis|\bOA\b|(?:systemic\s+)?lupus(?:\s+erythematosus)?|"
        r"\bSLE\b|chronic\s+fatigue(?:\s+syndrome)?|\bCFS\b|\bME/CFS\b|major\s+depress\w*|\bMDD\b|migraine\w*|"
        r"irritable\s+bowel(?:\s+syndrome)?|\bIBS\b|(?:chronic\s+)?low\s+back\s+pain|\bCLBP\b|multiple\s+sclerosis|"
        r"diabet\w*|cancer|ankylosing\s+spondylitis|spondyloarthritis|sj[oö]gren\w*|hypothyroid\w*|"
        r"familial\s+mediterranean\s+fever|\bFMF\b|postural\s+(?:orthostatic\s+)?tachycardia\s+syndrome|\bPOTS\b|"
        r"narcolepsy|parasomnia|REM\s+sleep\s+behaviou?r\s+disorder|spasticity|stroke|myalgic\s+encephalomyelitis|"
        r"multiple\s+chemical\s+sensitivity|temporomandibular\s+disorders?|\bTMD\b|burn-?out|"
        r"stress-related\s+syndromes|(?-i:\bME\b)|long\s+covid|post-covid(?:-19)?\s+(?:condition|syndrome)|"
        r"healthy\s+(?:volunteers|subjects|individuals|participants|people|adults|women|men)\s+(?:who|underwent|"
        r"were\s+(?:deprived|exposed|subjected))|general\s+population|non-?fibromyalgia|"
        r"(?:in|of)\s+(?:\w+\s+)?(?:rats|mice|animals|rodents)|(?:in|among)\s+(?:\w+\s+){0,2}healthy\s+(?:\w+\s+)?"
        r"(?:adults|subjects|individuals|people|volunteers|participants|women|men|populations?)|"
        r"(?:diseases|disorders|conditions|syndromes)\s+(?:such\s+as|affecting|including|like)",
        "other_population", scope="sentence"),
    # Fibromyalgia set against another patient group, not against health: a null there tests no prediction.
    Cue(r"between\s+(?:patients\s+with\s+)?(?:FMS?|fibromyalgia)(?:\s+\w+)?\s+and\s+(?!(?:the\s+|\w+\s+){0,2}"
        r"(?:controls?|healthy|non-?fibromyalgia|non-?FMS?|pain-free|normal))|between\s+(?!(?:the\s+|\w+\s+){0,2}"
        r"(?:controls?|healthy|groups?|non-?fibromyalgia|pain-free|normal))[\w/\-]+(?:\s+[\w/\-]+){0,3}\s+and\s+"
        r"(?:patients\s+with\s+)?(?:FMS?|fibromyalgia)\b|\bwith\s+(?:and|or|versus|vs\.?)\s+without\b",
        "patient_comparator", scope="sentence"),
    # Health as the comparison: what a null must be set against to contradict.
    Cue(r"(?:healthy|pain-free|normal|matched)\s+(?:\w+\s+)?(?:controls?|subjects|volunteers|individuals|"
        r"participants|women|men|people|adults)|\bcontrols?\b|\bHCs?\b|non-?fibromyalgia|general\s+population|"
        r"placebo|norms?\b|reference\s+values", "healthy_comparator", scope="sentence"),
    # --- what kind of evidence
    Cue(r"(?:healthy|matched|pain-free|normal)\s+(?:\w+\s+)?(?:controls?|subjects|volunteers|individuals|"
        r"participants|women|men|people)|control\s+(?:group|subjects|participants|individuals|women)|"
        r"\bcontrols\b|\bHCs?\b|\bHS\b|compared\s+(?:with|to)|than\s+(?:in\s+)?(?:the\s+)?(?:\w+\s+)?"
        r"(?:controls?|healthy)|versus|\bvs\b|between\s+(?:the\s+)?(?:two\s+)?groups", "comparator", scope="sentence"),
    Cue(r"associat\w*|correlat\w*|predict\w*|risk|odds|hazard|prevalen\w*|incidence|cohort|regression|"
        r"linked|relationship|related\s+to", "association", scope="sentence"),
    # The cause named as the population studied ("RA patients", "patients with lupus"), not as an exposure.
    Cue(r"(?:patients|women|men|subjects|individuals|people|those|children|adults|cohort)\s+(?:\w+\s+)?"
        r"(?:with|having|diagnosed\s+with)\s+(?:\w+\s+){0,2}(?:{term})|(?:{term})\s+(?:\w+\s+)?(?:patients|"
        r"women|subjects|population|cohort|group)|(?:in|among|within)\s+(?:\w+\s+)?(?:{term})\b(?!\s+(?:and|or)\b)",
        "term_population", scope="sentence"),
    # Counts of a cause among the people with fibromyalgia: how a trigger's association is stated.
    Cue(r"prevalen\w*|risk|odds|incidence|more\s+(?:common|frequent)|frequen\w*|onset|precede\w*|"
        r"preceding|triggered|develop\w*", "occurrence", scope="sentence"),
    Cue(r"placebo|treat(?:ed|ment|ments)|therap(?:y|ies|eutic)|administ\w+|supplement\w*|intervention\w*|"
        r"randomi[sz]ed|trial|dose|doses|dosing|mg\b|drug|medication|efficacy|efficacious|"
        r"(?:after|following)\s+(?:\d+\s+)?(?:weeks?|months?|sessions?)\s+of|\w+(?:oxetine|ipramine|"
        r"triptyline|gabalin|apentin|nacipran|azodone|traline|talopram|oxamine|amine\s+oxidase)",
        "treatment", scope="sentence"),
    Cue(r"(?:this|our|the\s+present)\s+(?:systematic\s+|narrative\s+|scoping\s+)?(?:review|meta-?analysis)|"
        r"meta-?analys[ie]s|pooled|(?:studies|trials)\s+(?:included|reviewed|showed|found|reported)|"
        r"systematic\s+review|reviewed\s+(?:studies|literature)", "review", scope="sentence"),
    # --- the sentence's role where no section label gives it (an unstructured abstract)
    Cue(r"in\s+conclusion|in\s+summary|taken\s+together|(?:these|our|the)\s+(?:\w+\s+)?(?:findings|results|data|"
        r"observations)\s+(?:\w+\s+)?(?:show|indicate|demonstrate|suggest|support|confirm|highlight|reveal|point|"
        r"provide)|this\s+(?:study|review|report|work|meta-?analysis)\s+(?:\w+\s+)?(?:shows|showed|demonstrates|"
        r"demonstrated|highlights|supports|indicates|reveals|revealed|provides|found)", "role_conclusion",
        scope="sentence"),
    Cue(r"(?:we|results?|analys[ie]s|it)\s+(?:\w+\s+)?(?:found|observed|showed|revealed|identified|detected|"
        r"demonstrated)|(?:was|were)\s+(?:\w+\s+)?(?:higher|lower|greater|reduced|increased|decreased|elevated|"
        r"associated|correlated|observed|found)|\bp\s*[<=>\u2264]\s*0?\.\d|differed|discriminated|"
        r"(?:correlated|associated)\s+(?:\w+\s+)?with|(?:showed|exhibited|displayed|had)\s+(?:\w+\s+)?(?:higher|lower|"
        r"greater|more|less|increased|decreased|reduced|elevated|impaired|altered)|(?:did|does|do)\s+not\s+(?:differ|"
        r"change|correlate)|no\s+(?:statistically\s+)?(?:significant\s+)?(?:differences?|associations?|"
        r"correlations?|changes?)\s+(?:was|were|in|between)|(?:studies|trials|evidence)\s+"
        r"(?:\w+\s+)?(?:showed|found|reported|demonstrated|indicated?s?)", "role_result", scope="sentence"),
    Cue(r"(?:is|are)\s+(?:a|an)\s+(?:\w+\s+){0,4}(?:condition|disorder|syndrome|disease|illness)|"
        r"characteri[sz]ed\s+by|with\s+features\s+of|marked\s+by|it\s+is\s+(?:known|thought|believed|plausible)|"
        r"(?:is|are)\s+(?:thought|believed|known|considered)\s+to|commonly\s+accepted|emerging\s+evidence",
        "role_background", scope="sentence"),
    # --- who the finding is about (step 2): fibromyalgia named as the group a result is for, and pooled groups
    Cue(r"(?:patients|women|men|individuals|subjects|people|persons|children|adolescents|adults|participants|those)"
        r"\s+(?:\w+\s+)?(?:with|having|diagnosed\s+with|suffering\s+from)\s+(?:primary\s+|juvenile\s+)?"
        r"(?:fibromyalgia|FMS?|JFM)|(?:fibromyalgia|FMS?|JFM)(?:\s+syndrome)?[\s-]+(?:patients|group|subjects|women|"
        r"cohort|sample|participants|individuals)|(?:in|among|within)\s+(?:\w+\s+)?(?:fibromyalgia|FMS?|JFM)\b",
        "fibromyalgia_population", scope="sentence"),
    Cue(r"(?:both|all|the\s+two|the\s+three)\s+(?:\w+\s+)?patient\s+groups|both\s+(?:fibromyalgia|FMS?)\s+and\s+\w+|"
        r"(?:fibromyalgia|FMS?)\s+and/or\s+\w+|"
        r"(?:fibromyalgia|FMS?)\s+(?:and|or)\s+(?:\w+\s+){0,4}(?:analy[sz]ed|combined|pooled|taken)\s+"
        r"(?:as\s+one|together)|analy[sz]ed\s+as\s+one\s+group|pooled\s+(?:patient\s+)?(?:group|sample)|"
        r"functional\s+somatic\s+syndromes|these\s+(?:comorbidities|conditions|disorders|syndromes)|"
        r"(?:fibromyalgia|FMS?)\s+or\s+(?:\w+\s+){0,3}(?:syndrome|migraine|disease|pain)\b", "pooled",
        scope="sentence"),
    # --- what the cause's term names (step 3): a symptom beside others in a list, not the cause's construct
    Cue(r"pain|fatigue|depress\w*|anxiety|mood|quality\s+of\s+life|QoL|stiffness|cognit\w*|memory|function|"
        r"functioning|functionality|disability|flexibility|fitness|well-?being|catastrophi[sz]\w*|sleep|insomnia|"
        r"headaches?|tenderness|symptom\s+severity|FIQR?|kinesiophobia|self-efficacy|distress|stress|strength|"
        r"balance|coping|endurance|mobility|symptoms?",
        "symptom", scope="sentence"),
    # A null about whether a link is mediated or moderated tests a pathway, not the cause's abnormality.
    Cue(r"mediat\w*|moderat(?:ed|es|ing|ion|or|ors)", "mediation", scope="clause"),
    # A treatment named after the cause ("vagus nerve stimulation", "serotonin reuptake inhibitors"): aimed at it.
    Cue(r"stimulation|biofeedback|neurofeedback|neuromodulation|entrainment|training|therapy|inhibitors?|agonists?|"
        r"antagonists?|blockers?|blockade|supplementation|supplements?|hygiene|restriction|treatment|intervention",
        "treatment_noun", scope="sentence"),
    # What a null in a trial must be set against to count: a placebo, sham, usual care, a waiting list or health.
    Cue(r"placebo|sham|usual\s+care|wait(?:ing)?[\s-]?list|no[\s-]treatment|healthy|controls?\b|HCs?\b",
        "inactive_comparator", scope="sentence"),
    # A result that interprets another ("... suggesting a reduction in central sensitization"): low confidence.
    # A cause named as what something else may bring about ("alterations ... may result in widespread pain",
    # "... are implicated in nociplastic pain"): a speculation, or the cause as a consequence, not a result on it.
    Cue(r"(?:may|might|could|would|can)\s+(?:\w+\s+)?(?:result\s+in|cause|contribute\s+to|lead\s+to|underlie|"
        r"explain|play\s+(?:a|an)\s+(?:\w+\s+)?role|be\s+involved|trigger|drive|predispose|increase\s+(?:the\s+)?"
        r"(?:vulnerability|susceptibility|risk)|(?:negatively\s+|adversely\s+)?affect)|"
        r"(?:potential|possible|putative|proposed)\s+(?:\w+\s+)?mechanisms?|mechanisms?\s+(?:behind|underlying)",
        "speculation",
        scope="sentence"),
    Cue(r"(?:are|is|be|been)\s+implicated\s+in|involved\s+in|contribut(?:e|es|ed|ing)\s+to|lead(?:s|ing)?\s+to|"
        r"result(?:s|ed|ing)?\s+in|underl(?:ie|ies|ying)|play(?:s|ed)?\s+(?:a|an)\s+(?:\w+\s+)?role\s+in|"
        r"(?:be|is|are|was|were)\s+(?:\w+\s+)?(?:due|attributed|attributable)\s+to|(?:caused|explained)\s+by",
        "consequence", scope="sentence"),
    # A null about other outcomes than the one in question ("the absence of similar associations for other
    # outcomes supports the specificity of ..."): it says nothing of the cause.
    Cue(r"(?:similar|such|comparable)\s+(?:associations?|effects?|differences?|correlations?|changes?)\s+"
        r"(?:for|with|in|on)\s+other|(?:for|with|in|on)\s+other\s+(?:\w+\s+)?(?:outcomes|measures|variables|"
        r"parameters|symptoms|domains|regions)", "null_elsewhere", scope="sentence"),
    # Subgroups of patients set against each other (clusters, subtypes, responders): a difference there is none
    # from health.
    Cue(r"sub-?types?|sub-?groups?|(?:patient|symptom)\s+clusters?|phenotypes?|non-?responders?|responders|"
        r"(?:first|second|third|fourth|largest|smallest)\s+(?:\w+\s+)?group|(?:group|cluster)\s+[1-4]\b|"
        r"(?:compared|versus|vs\.?|than)\s+(?:with\s+|to\s+|in\s+)?(?:patients|those|subjects|individuals)\s+"
        r"(?:with|without)\b",
        "patient_subgroups", scope="sentence"),
    # What shows that a sentence reports evidence ("revealed", "indicates", "was observed"), which an abnormality
    # named without a comparison needs to be a finding rather than a premise.
    Cue(r"show(?:s|ed|n|ing)?|reveal\w*|indicat\w*|demonstrat\w*|observed|found|detected|identified|confirm\w*|"
        r"highlight\w*|suggest\w*|characteri[sz]ed|exhibit\w*|display\w*|had|presented", "evidential",
        scope="sentence"),
    # What links a trigger to fibromyalgia: an occurrence or an association, not a score compared across groups.
    Cue(r"associat\w*|linked|odds|hazard|risk|prevalen\w*|incidence|more\s+(?:common|frequent|likely)|frequen\w*|"
        r"onset|preced\w*|followed|triggered|develop\w*|history\s+of|comorbid\w*|co-?occurr\w*",
        "trigger_link", scope="sentence"),
    Cue(r"suggest\w*|indicat(?:e|es|ed|ing)|reflect\w*|highlight\w*|implicat\w*|point(?:s|ed)?\s+to|"
        r"consistent\s+with", "interpretation", scope="sentence"),
)

# Measures of a cause's construct that its tagging terms do not name (step 3), by shipped cause id: an article
# tagged with the cause is read at these too, and a reading from one is low-confidence. Each starts with a literal
# word, which must stand in the text before the pattern is tried (most abstracts name none of them).
CONSTRUCT_MEASURES: dict[str, tuple[str, ...]] = {
    "autonomic": (r"pupil(?:lary)?\s+(?:sizes?|diameters?|responses?|dilation)", r"COMPASS[\s-]?31",
                  r"SDNN(?:/RMSSD)?", r"RMSSD", r"pNN50",
                  r"baroreceptor(?:\s+reflex)?", r"R-?R\s+interval\s+variability", r"HF\s+power",
                  r"high[\s-]frequency\s+(?:power|component)", r"LF/HF(?:\s+ratio)?", r"cardiac\s+vagal\s+\w+"),
    "muscle": (r"muscle\s+oxygen\w*(?:\s+saturation)?", r"oxygen\s+(?:utili[sz]ation|uptake|saturation|extraction)",
               r"muscle\s+(?:blood\s+flow|fib(?:er|re)s?|perfusion)", r"SmO2", r"VO2\s?(?:max|peak)?"),
    "central_sensitisation": (r"pain\s+(?:thresholds?|sensitivity|modulation|inhibition|facilitation)",
                              r"pressure\s+pain\s+thresholds?", r"quantitative\s+sensory\s+testing", r"QST",
                              r"central\s+sensiti[sz]ation\s+inventory", r"pronociceptive"),
    "stress_hormones": (r"momentary\s+stress", r"daily\s+stress(?:ors?)?", r"perceived\s+stress",
                        r"psychosocial\s+stress(?:ors?)?", r"stress\s+responses",
                        r"hair\s+cortisol(?:\s+concentrations?)?"),
}

# Outcomes that measure a cause as a symptom the patient reports (step 3), matched where the cause's term stands: a
# treatment that improves one supports the cause only when the treatment is aimed at it.
SYMPTOM_OUTCOMES: dict[str, str] = {
    "sleep": r"(?:Pittsburgh\s+)?sleep(?!\s*(?:architecture|stages?|spindles?|efficiency|latency|EEG|apnea|apnoea))|"
             r"PSQI|insomnia(?:\s+severity)?",
    "stress_hormones": r"perceived\s+stress|stress\s+levels?",
    "autonomic": r"autonomic\s+symptoms?|dysautonomia",
}

# A negation reaches the cues that follow it within this many words ("did not show any significant increase").
NEGATION_SCOPE_WORDS = 6
# Clause boundaries: a negation's scope and a finding's reach end here.
_CLAUSE_BREAK = re.compile(
    r";|\s[\u2013\u2014-]\s|,?\s+(?:but|whereas|while|although|though|however|yet|except|unlike|in\s+contrast|despite|"
    r"conversely|nevertheless|nonetheless|instead)\b,?|,\s+and\s+(?=\w+\s+(?:\w+\s+)?(?:was|were|is|are|had|"
    r"showed|did)\b)|\.\s", re.IGNORECASE)


class CueMatch(NamedTuple):
    start: int
    end: int
    category: str
    direction: str
    text: str


def _compiled_categories(cues: Sequence[Cue]) -> dict[str, re.Pattern[str]]:
    """One pattern per category, each cue a named group, so a sentence is scanned once a category.

    The "term_population" cues hold a {term} slot for the cause's term; they are compiled per cause. The word
    boundaries stand once around all the cues, not around each: Python's engine then tests the one before a cue
    once a position instead of once a cue (a quarter less time), and a match is the same, since each cue's
    alternatives are still tried in turn, each with the boundary after it."""
    grouped: dict[str, list[str]] = {}
    for number, cue in enumerate(cues):
        if "{term}" in cue.pattern:
            continue
        grouped.setdefault(cue.category, []).append(rf"(?P<c{number}>{cue.pattern})")
    return {category: re.compile(rf"(?<![\w-])(?:{'|'.join(parts)})(?![\w])", re.IGNORECASE)
            for category, parts in grouped.items()}


_PATTERNS = _compiled_categories(CUES)
_TERM_POPULATION = [cue.pattern for cue in CUES if cue.category == "term_population"]


def term_as_population(sentence: str, term_text: str) -> bool:
    """Whether the sentence names the cause's term (as it stands in it) as the population studied."""
    term = re.escape(term_text)
    return any(re.search(pattern.replace("{term}", term), sentence, re.IGNORECASE) for pattern in _TERM_POPULATION)


@functools.cache
def cue_screens() -> ScreenSet:
    """Every category's screen in one Hyperscan database, compiled on first need (some tenths of a second, once a
    process): a fetch that finds nothing new to read never pays for it."""
    return ScreenSet({category: union_screen([pattern]) for category, pattern in _PATTERNS.items()})


@functools.lru_cache(maxsize=65536)
def categories_that_may_match(text: str) -> frozenset[str]:
    """The cue categories that may match in a text: `cue_matches` finds none of any other."""
    return cue_screens().matching(text)


@functools.lru_cache(maxsize=65536)
def cue_matches(text: str, category: str) -> tuple[CueMatch, ...]:
    """Every match of one category's cues in a text (cached: causes of one article share its sentences)."""
    pattern = _PATTERNS.get(category)
    # A sentence is asked for some twenty categories and holds a few: one pass of the screens tells which may
    # stand, and Python's patterns (a scan each) run only for those.
    if pattern is None or category not in categories_that_may_match(text):
        return ()
    found = []
    for match in pattern.finditer(text):
        cue = CUES[int(match.lastgroup[1:])]
        found.append(CueMatch(match.start(), match.end(), category, cue.direction, match.group()))
    return tuple(found)


def cue_pattern(category: str) -> re.Pattern[str] | None:
    """The one pattern of a category's cues (for screens that run it elsewhere)."""
    return _PATTERNS.get(category)


def overlaps(match: CueMatch, others: Sequence[CueMatch]) -> bool:
    return any(other.start < match.end and match.start < other.end for other in others)


def clauses(sentence: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for found in _CLAUSE_BREAK.finditer(sentence):
        if found.start() > start:
            spans.append((start, found.start()))
        start = found.end()
    if start < len(sentence):
        spans.append((start, len(sentence)))
    return spans or [(0, len(sentence))]

