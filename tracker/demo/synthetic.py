"""Synthetic PubMed XML: realistic `<PubmedArticle>` records about fibromyalgia for the stand-in and the benchmarks.

Every record is built from a `random.Random`, so a seed gives the same bytes on every machine. The shapes follow
PubMed's efetch output (MedlineCitation + PubmedData) including its corners: MedlineDate, inline markup in titles,
structured abstracts, collective authors, MeSH qualifiers and check tags, CommentsCorrections links, non-ASCII.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from xml.sax.saxutils import escape

DOCTYPE_LINE = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# One entry per hypothesised cause: title phrases, abstract findings, MeSH descriptors (name, UI) and keywords.
# Tagging and query tests look for these words, so each topic uses its hypothesis's own vocabulary.
TOPICS: dict[str, dict[str, tuple]] = {
    "substance_p": {
        "subjects": ("substance P", "neurokinin-1 receptor signalling", "cerebrospinal fluid substance P"),
        "findings": ("substance P concentrations in cerebrospinal fluid were about threefold higher",
                     "neuropeptide levels correlated with tender point counts"),
        "mesh": (("Substance P", "D013373"), ("Neuropeptides", "D009479"), ("Cerebrospinal Fluid", "D002555")),
        "keywords": ("substance P", "neuropeptides", "nociception"),
    },
    "serotonin": {
        "subjects": ("serotonin", "5-HT<sub>2A</sub> receptor polymorphism", "platelet serotonin uptake"),
        "findings": ("serum serotonin and tryptophan were lower than in controls",
                     "the 5-HT transporter genotype did not differ between groups"),
        "mesh": (("Serotonin", "D012701"), ("Tryptophan", "D014364"), ("Serotonin Plasma Membrane Transport Proteins",
                                                                          "D050486")),
        "keywords": ("serotonin", "tryptophan", "5-HT"),
    },
    "sleep": {
        "subjects": ("non-restorative sleep", "slow-wave sleep deprivation", "somatomedin C (IGF-1)"),
        "findings": ("alpha (α) intrusion into delta sleep was seen in most patients",
                     "somatomedin C levels were reduced after slow-wave sleep disruption"),
        "mesh": (("Sleep Wake Disorders", "D012893"), ("Insulin-Like Growth Factor I", "D007334"),
                 ("Polysomnography", "D017286")),
        "keywords": ("sleep", "IGF-1", "alpha-delta sleep"),
    },
    "autonomic": {
        "subjects": ("autonomic nervous system dysfunction", "heart rate variability", "tilt-table testing"),
        "findings": ("sympathetic hyperactivity and reduced heart rate variability were found",
                     "norepinephrine responses to tilt were blunted and syncope was frequent"),
        "mesh": (("Autonomic Nervous System Diseases", "D001342"), ("Heart Rate", "D006339"),
                 ("Norepinephrine", "D009638")),
        "keywords": ("heart rate variability", "sympathetic nervous system", "dysautonomia"),
    },
    "injury": {
        "subjects": ("whiplash injury", "cervical spine trauma", "physical trauma"),
        "findings": ("new-onset widespread pain was more frequent after neck injury than after leg fracture",
                     "post-traumatic widespread pain persisted at 12 months"),
        "mesh": (("Whiplash Injuries", "D014885"), ("Wounds and Injuries", "D014947"), ("Neck Injuries", "D009333")),
        "keywords": ("whiplash", "trauma", "post-traumatic pain"),
    },
    "infection": {
        "subjects": ("viral infection", "hepatitis C infection", "Lyme disease (Borrelia burgdorferi)"),
        "findings": ("antibodies to Epstein–Barr virus were not more frequent than in controls",
                     "widespread pain followed bacterial infection in a subset of patients"),
        "mesh": (("Virus Diseases", "D014777"), ("Hepatitis C", "D006526"), ("Lyme Disease", "D008193")),
        "keywords": ("infection", "virus", "bacteria"),
    },
    "muscle": {
        "subjects": ("muscle energy metabolism", "muscle deconditioning", "intramuscular oxygenation"),
        "findings": ("phosphocreatine recovery measured by <sup>31</sup>P spectroscopy was slower",
                     "aerobic fitness was lower and muscle microcirculation was impaired"),
        "mesh": (("Muscle, Skeletal", "D018482"), ("Energy Metabolism", "D004734"), ("Physical Fitness", "D010809")),
        "keywords": ("muscle metabolism", "deconditioning", "exercise"),
    },
    "stress_hpa": {
        "subjects": ("the hypothalamic-pituitary-adrenal axis", "cortisol awakening response",
                     "psychological stress"),
        "findings": ("24-h urinary free cortisol was lower and ACTH responses were exaggerated",
                     "daily stress predicted pain flares over the following week"),
        "mesh": (("Hydrocortisone", "D006854"), ("Hypothalamo-Hypophyseal System", "D007030"),
                 ("Stress, Psychological", "D013315")),
        "keywords": ("cortisol", "HPA axis", "stress"),
    },
    "central_sensitisation": {
        "subjects": ("central sensitization", "thalamic blood flow", "temporal summation of pain"),
        "findings": ("regional cerebral blood flow in the thalamus and caudate nucleus was reduced",
                     "wind-up and conditioned pain modulation indicated augmented central pain processing"),
        "mesh": (("Central Nervous System Sensitization", "D062386"), ("Thalamus", "D013788"),
                 ("Pain Threshold", "D017288")),
        "keywords": ("central sensitisation", "pain processing", "fMRI"),
    },
}

DEFAULT_PUB_TYPES = ("Journal Article",)
PUB_TYPE_CHOICES = (
    ("Journal Article",),
    ("Journal Article", "Randomized Controlled Trial"),
    ("Journal Article", "Review"),
    ("Journal Article", "Systematic Review", "Meta-Analysis"),
    ("Journal Article", "Observational Study"),
    ("Case Reports",),
    ("Editorial",),
    ("Comparative Study", "Journal Article"),
)
PUB_TYPE_UIS = {
    "Journal Article": "D016428", "Randomized Controlled Trial": "D016449", "Review": "D016454",
    "Systematic Review": "D000078182", "Meta-Analysis": "D017418", "Observational Study": "D064888",
    "Case Reports": "D002363", "Editorial": "D016421", "Comparative Study": "D003160",
    "Retracted Publication": "D016441", "Research Support, Non-U.S. Gov't": "D013485",
}

JOURNALS = (
    ("Arthritis and rheumatism", "Arthritis Rheum", "0004-3591"),
    ("Pain", "Pain", "0304-3959"),
    ("The Journal of rheumatology", "J Rheumatol", "0315-162X"),
    ("Clinical and experimental rheumatology", "Clin Exp Rheumatol", "0392-856X"),
    ("Schmerz (Berlin, Germany)", "Schmerz", "0932-433X"),
    ("Revue du rhumatisme (English ed.)", "Rev Rhum Engl Ed", "1169-8446"),
    ("Journal of psychosomatic research", "J Psychosom Res", "0022-3999"),
)
LAST_NAMES = ("Smith", "Müller", "García", "Lefèvre", "Yunus", "Wolfe", "Clauw", "Björk", "Nováková", "O'Brien",
              "Russell", "Moldofsky", "Crofford", "Sørensen", "Häuser", "Üçeyler")
FORE_NAMES = (("John A", "JA"), ("Élise", "É"), ("Jürgen", "J"), ("María José", "MJ"), ("Daniel J", "DJ"),
              ("Ingrid", "I"), ("Frederick", "F"), ("Leslie J", "LJ"), ("Nurcan", "N"))
AFFILIATIONS = ("Department of Rheumatology, Université de Lyon, Lyon, France.",
                "Division of Rheumatology, University of Michigan, Ann Arbor, MI, USA.",
                "Klinik für Innere Medizin, Klinikum Saarbrücken, Saarbrücken, Germany.",
                "Pain Research Unit, Karolinska Institutet, Stockholm, Sweden.")
COLLECTIVE_NAMES = ("Fibromyalgia Study Group", "EULAR Task Force on Fibromyalgia")
SEASONS = ("Spring", "Summer", "Fall", "Winter")
TITLE_ENDINGS = ("a pilot study", "a controlled study", "a review", "a 5-year follow-up", "évaluation clinique")
CORPUS_END = date(2026, 11, 1)  # no drawn entry or revision date falls later, so reldate windows stay predictable


def _date_xml(tag: str, day: date, attributes: str = "") -> str:
    return (f"<{tag}{attributes}><Year>{day.year}</Year><Month>{day.month:02d}</Month>"
            f"<Day>{day.day:02d}</Day></{tag}>")


def _history_date(status: str, day: date, hour: int) -> str:
    return (f'<PubMedPubDate PubStatus="{status}"><Year>{day.year}</Year><Month>{day.month}</Month>'
            f"<Day>{day.day}</Day><Hour>{hour}</Hour><Minute>0</Minute></PubMedPubDate>")


def _pub_date_xml(year: int | None, rng: random.Random) -> str:
    """Return a PubDate in one of PubMed's shapes; year None gives a MedlineDate with no year."""
    if year is None:
        return "<PubDate><MedlineDate>n.d.</MedlineDate></PubDate>"
    shape = rng.random()
    if shape < 0.45:
        return f"<PubDate><Year>{year}</Year><Month>{rng.choice(MONTH_NAMES)}</Month></PubDate>"
    if shape < 0.70:
        return (f"<PubDate><Year>{year}</Year><Month>{rng.randint(1, 12):02d}</Month>"
                f"<Day>{rng.randint(1, 28)}</Day></PubDate>")
    if shape < 0.80:
        return f"<PubDate><Year>{year}</Year></PubDate>"
    # The MedlineDate forms the parser must read: "2019 Nov-Dec", "1998 Dec-1999 Jan", "Spring 2020", "2000-2001".
    forms = (f"{year} {MONTH_NAMES[(start := rng.randint(0, 10))]}-{MONTH_NAMES[start + 1]}",
             f"{year} Dec-{year + 1} Jan",
             f"{rng.choice(SEASONS)} {year}",
             f"{year}-{year + 1}")
    return f"<PubDate><MedlineDate>{rng.choice(forms)}</MedlineDate></PubDate>"


def _author_xml(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return f'<Author ValidYN="Y"><CollectiveName>{escape(rng.choice(COLLECTIVE_NAMES))}</CollectiveName></Author>'
    fore_name, initials = rng.choice(FORE_NAMES)
    affiliations = "".join(
        f"<AffiliationInfo><Affiliation>{escape(affiliation)}</Affiliation></AffiliationInfo>"
        for affiliation in rng.sample(AFFILIATIONS, rng.randint(0, 2))
    )
    return (f'<Author ValidYN="Y"><LastName>{escape(rng.choice(LAST_NAMES))}</LastName>'
            f"<ForeName>{escape(fore_name)}</ForeName><Initials>{escape(initials)}</Initials>{affiliations}</Author>")


def _mesh_xml(topic: dict[str, tuple], species: str, rng: random.Random) -> str:
    headings = [('<MeshHeading><DescriptorName UI="D005356" MajorTopicYN="Y">Fibromyalgia</DescriptorName>'
                 '<QualifierName UI="Q000503" MajorTopicYN="N">physiopathology</QualifierName>'
                 '<QualifierName UI="Q000209" MajorTopicYN="N">etiology</QualifierName></MeshHeading>')]
    for name, ui in rng.sample(topic["mesh"], rng.randint(1, len(topic["mesh"]))):
        qualifier = ('<QualifierName UI="Q000378" MajorTopicYN="Y">metabolism</QualifierName>'
                     if rng.random() < 0.4 else "")
        headings.append(f'<MeshHeading><DescriptorName UI="{ui}" MajorTopicYN="N">{escape(name)}</DescriptorName>'
                        f"{qualifier}</MeshHeading>")
    # Check tags decide the species the tagging step reports; "both" and "unknown" are real cases too.
    if species in ("human", "both"):
        headings.append('<MeshHeading><DescriptorName UI="D006801" MajorTopicYN="N">Humans</DescriptorName>'
                        "</MeshHeading>")
    if species in ("animal", "both"):
        headings.append('<MeshHeading><DescriptorName UI="D000818" MajorTopicYN="N">Animals</DescriptorName>'
                        "</MeshHeading>")
        headings.append('<MeshHeading><DescriptorName UI="D051381" MajorTopicYN="N">Rats</DescriptorName>'
                        "</MeshHeading>")
    if rng.random() < 0.6:
        headings.append('<MeshHeading><DescriptorName UI="D005260" MajorTopicYN="N">Female</DescriptorName>'
                        "</MeshHeading>")
    return "<MeshHeadingList>" + "".join(headings) + "</MeshHeadingList>"


def _abstract_xml(topic: dict[str, tuple], subject: str, species: str, rng: random.Random) -> str:
    population = "rats" if species == "animal" else "women with fibromyalgia and age-matched healthy controls"
    count = rng.randint(12, 480)
    finding = rng.choice(topic["findings"])
    if rng.random() < 0.25:
        return (f"<Abstract><AbstractText>We studied {subject} in {count} {population}. "
                f"In fibromyalgia, {finding}.</AbstractText></Abstract>")
    sections = (
        ("BACKGROUND", "BACKGROUND", f"The role of {subject} in fibromyalgia syndrome remains debated."),
        ("METHODS", "METHODS", f"We enrolled {count} {population}; measurements were taken at baseline and after"
                               f" {rng.randint(2, 24)} weeks."),
        ("RESULTS", "RESULTS", f"In fibromyalgia, {finding} (p&lt;0.0{rng.randint(1, 5)})."),
        ("CONCLUSIONS", "CONCLUSIONS", "These data support a contribution of this mechanism to chronic widespread"
                                       " pain – though causality is unproven."),
    )
    texts = "".join(f'<AbstractText Label="{label}" NlmCategory="{category}">{text}</AbstractText>'
                    for label, category, text in sections)
    copyright_text = "<CopyrightInformation>© The Author(s).</CopyrightInformation>" if rng.random() < 0.3 else ""
    return f"<Abstract>{texts}{copyright_text}</Abstract>"


def synthetic_article_xml(
    pmid: int,
    rng: random.Random,
    *,
    year: int | None = None,
    title: str | None = None,
    topic: str | None = None,
    pub_types: Sequence[str] | None = None,
    species: str | None = None,
    retracted_in: int | None = None,
    erratum_in: int | None = None,
    entrez_date: date | None = None,
    revised_date: date | None = None,
    doi: bool | None = None,
    title_prefix: str = "",
) -> bytes:
    """Return one realistic `<PubmedArticle>` element as UTF-8 bytes; unset options are drawn from rng.

    `year` None draws a year from 1985–2026; pass `year=0` for a record without a publication year.
    `title` is inserted as given (it may carry inline markup such as "<i>in vivo</i>").
    `entrez_date` sets the History entrez/pubmed dates; `revised_date` sets DateRevised. `title_prefix` (escaped)
    goes before the title, drawn or given, without changing what else is drawn.
    """
    topic_name = topic or rng.choice(tuple(TOPICS))
    vocabulary = TOPICS[topic_name]
    publication_year = rng.randint(1985, 2026) if year is None else (year or None)
    species = species or rng.choices(("human", "animal", "both", "unknown"), weights=(80, 10, 3, 7))[0]
    subject = rng.choice(vocabulary["subjects"])
    if title is None:
        markup = rng.random()
        qualifier = (" <i>in vivo</i>" if markup < 0.1 else " in the Müller–Lyer cohort" if markup < 0.15 else "")
        kind = rng.choice(TITLE_ENDINGS)
        title = f"{subject[0].upper()}{subject[1:]} in fibromyalgia{qualifier}: {kind}."
    types = list(pub_types if pub_types is not None else rng.choice(PUB_TYPE_CHOICES))
    if retracted_in is not None and "Retracted Publication" not in types:
        types.append("Retracted Publication")
    if rng.random() < 0.3:
        types.append("Research Support, Non-U.S. Gov't")

    entered = entrez_date or min(date(publication_year or rng.randint(1985, 2026), rng.randint(1, 12),
                                      rng.randint(1, 28)), CORPUS_END)
    revised = revised_date or max(entered, min(entered + timedelta(days=rng.randint(30, 2000)), CORPUS_END))
    journal, journal_iso, issn = rng.choice(JOURNALS)
    first_page = rng.randint(1, 2400)
    authors = "".join(_author_xml(rng) for _ in range(rng.randint(1, 7)))
    language = rng.choices(("eng", "ger", "fre", "spa"), weights=(90, 4, 4, 2))[0]
    publication_types = "".join(f'<PublicationType UI="{PUB_TYPE_UIS.get(name, "D016428")}">{escape(name)}'
                                f"</PublicationType>" for name in types)
    keywords = "".join(f'<Keyword MajorTopicYN="N">{escape(keyword)}</Keyword>'
                       for keyword in rng.sample(vocabulary["keywords"], rng.randint(1, len(vocabulary["keywords"]))))
    corrections = []
    if retracted_in is not None:
        corrections.append(f'<CommentsCorrections RefType="RetractionIn"><RefSource>{journal_iso}. '
                           f"{(publication_year or 2020) + 1};12:1.</RefSource>"
                           f'<PMID Version="1">{retracted_in}</PMID></CommentsCorrections>')
    if erratum_in is not None:
        corrections.append(f'<CommentsCorrections RefType="ErratumIn"><RefSource>{journal_iso}. 2021;5:9.'
                           f'</RefSource><PMID Version="1">{erratum_in}</PMID></CommentsCorrections>')
    if rng.random() < 0.1:
        corrections.append(f'<CommentsCorrections RefType="CommentIn"><RefSource>{journal_iso}. 2010;3:4.'
                           f'</RefSource><PMID Version="1">{pmid + 7}</PMID></CommentsCorrections>')
    corrections_xml = ("<CommentsCorrectionsList>" + "".join(corrections) + "</CommentsCorrectionsList>"
                       if corrections else "")
    has_doi = rng.random() < 0.8 if doi is None else doi
    article_ids = f'<ArticleId IdType="pubmed">{pmid}</ArticleId>'
    # Identifiers that name no real article, since the dashboard links them: DOIs under Crossref's test prefix
    # 10.5555, PMC ids that are the PMID itself (the demo's PMIDs, from 90,000,000, are beyond PubMed Central's).
    if has_doi:
        article_ids += f'<ArticleId IdType="doi">10.5555/fm.{rng.randint(1000, 9999)}.{pmid}</ArticleId>'
    if rng.random() < 0.3:
        article_ids += f'<ArticleId IdType="pmc">PMC{pmid}</ArticleId>'
    electronic = (_date_xml("ArticleDate", entered - timedelta(days=rng.randint(0, 40)), ' DateType="Electronic"')
                  if rng.random() < 0.5 else "")

    record = (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
        f"{_date_xml('DateRevised', revised)}"
        f'<Article PubModel="Print-Electronic"><Journal><ISSN IssnType="Print">{issn}</ISSN>'
        f'<JournalIssue CitedMedium="Print"><Volume>{rng.randint(1, 80)}</Volume><Issue>{rng.randint(1, 12)}</Issue>'
        f"{_pub_date_xml(publication_year, rng)}</JournalIssue><Title>{escape(journal)}</Title>"
        f"<ISOAbbreviation>{escape(journal_iso)}</ISOAbbreviation></Journal>"
        f"<ArticleTitle>{escape(title_prefix)}{title}</ArticleTitle>"
        f"<Pagination><MedlinePgn>{first_page}-{first_page + rng.randint(1, 14)}</MedlinePgn></Pagination>"
        f"{_abstract_xml(vocabulary, subject, species, rng)}"
        f'<AuthorList CompleteYN="Y">{authors}</AuthorList><Language>{language}</Language>'
        f"<PublicationTypeList>{publication_types}</PublicationTypeList>{electronic}</Article>"
        f"<MedlineJournalInfo><Country>United States</Country><MedlineTA>{escape(journal_iso)}</MedlineTA>"
        f"</MedlineJournalInfo><CitationSubset>IM</CitationSubset>{corrections_xml}"
        f"{_mesh_xml(vocabulary, species, rng)}"
        f'<KeywordList Owner="NOTNLM">{keywords}</KeywordList></MedlineCitation>'
        f"<PubmedData><History>{_history_date('received', entered - timedelta(days=90), 0)}"
        f"{_history_date('pubmed', entered, 6)}{_history_date('medline', revised, 6)}"
        f"{_history_date('entrez', entered, 6)}</History><PublicationStatus>ppublish</PublicationStatus>"
        f"<ArticleIdList>{article_ids}</ArticleIdList></PubmedData></PubmedArticle>"
    )
    return record.encode("utf-8")


def synthetic_corpus(count: int, seed: int = 0, first_pmid: int = 10_000_000) -> dict[int, bytes]:
    """Return `count` records keyed by PMID (consecutive from first_pmid).

    About 1% have no publication year, 2% are retracted, and 2% entered PubMed late (2024–2026) with an old
    publication year (1985–2015), the records a sync that watches only recent Entrez dates misses.
    """
    rng = random.Random(seed)
    corpus: dict[int, bytes] = {}
    for pmid in range(first_pmid, first_pmid + count):
        roll = rng.random()
        year = 0 if roll < 0.01 else None
        retracted_in = pmid + count + 1 if 0.01 <= roll < 0.03 else None
        entrez_date = None
        if 0.03 <= roll < 0.05:
            year = rng.randint(1985, 2015)
            entrez_date = date(rng.randint(2024, 2026), rng.randint(1, 10), rng.randint(1, 28))
        corpus[pmid] = synthetic_article_xml(pmid, rng, year=year, retracted_in=retracted_in,
                                             entrez_date=entrez_date)
    return corpus


def pubmed_article_set(records: Iterable[bytes]) -> bytes:
    """Wrap records in a PubmedArticleSet with the XML declaration and the DOCTYPE line efetch sends."""
    head = f'<?xml version="1.0" ?>\n{DOCTYPE_LINE}\n<PubmedArticleSet>\n'.encode()
    return head + b"\n".join(records) + b"\n</PubmedArticleSet>"
