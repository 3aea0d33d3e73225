"""Read the hypotheses file and the environment once into frozen settings, validating with clear messages."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from tracker.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
DEFAULT_HYPOTHESES_PATH = PACKAGE_DIR / "hypotheses.toml"
DEFAULT_DB_PATH = PROJECT_DIR / "data" / "tracker.sqlite"
DEFAULT_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
TOOL_NAME = "fibromyalgia-evidence-tracker"
# The fetch job's default schedule, read by `tracker schedule` and shown by the dashboard (which must not import
# the job to show it): nightly at 02:30 US Eastern, inside NCBI's off-peak hours, up to 10 minutes late at random.
DEFAULT_CRON = "30 2 * * *"
DEFAULT_TIMEZONE = "America/New_York"
DEFAULT_JITTER_S = 600
# NCBI's off-peak hours on weekdays, US Eastern: from 21:00 to 05:00 the next morning.
OFF_PEAK_START_HOUR = 21
OFF_PEAK_END_HOUR = 5
# A whole request, from connecting to the last byte. NCBI serves a 300-record efetch (about 8 MB) in seconds and its
# slowest replies seen in practice, large batches while it is busy, in one to two minutes: five minutes leaves that
# room twice over, yet stops a server that trickles bytes (each read inside the read timeout) from holding the job
# lock for ever.
DEFAULT_REQUEST_DEADLINE_S = 300.0
# PubMed XML runs about 26 KB a record (190 KB the largest seen): a 500-record efetch is about 13 MB, a batch of the
# largest records under 100 MB. 256 MiB leaves that room while an endless reply or a gzip bomb stops long before
# memory does; it bounds the bytes on the wire and the bytes after gzip/deflate decoding alike.
DEFAULT_MAX_REPLY_BYTES = 256 * 1024 * 1024

_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_REQUIRED_TEXT_FIELDS = ("id", "label", "description", "query")
_KNOWN_FIELDS = {"id", "label", "description", "query", "terms", "baseline", "expect"}
# What a cause's hypothesis predicts its finding to be in people with fibromyalgia (the stance reader compares
# each finding with it): a directional change of a marker, any significant difference ("abnormal"), or an
# association with fibromyalgia or its onset ("associated", for triggers).
EXPECTS: tuple[str, ...] = ("higher", "lower", "abnormal", "associated")
# A cause written without "expect": any significant difference counts, which never calls a direction wrong.
DEFAULT_EXPECT = "abnormal"


@dataclass(frozen=True)
class Hypothesis:
    """One hypothesised cause (or the baseline): what to ask PubMed and how to tag text."""

    id: str
    label: str
    description: str
    query: str
    terms: tuple[str, ...] = ()
    baseline: bool = False
    expect: str = DEFAULT_EXPECT


@dataclass(frozen=True)
class Settings:
    """Everything the tracker reads from its environment, built once at the edge and passed down."""

    hypotheses: tuple[Hypothesis, ...]
    hypotheses_path: Path
    db_path: Path
    # Not in repr: a URL may carry a user name and password; show eutils_url_display instead.
    eutils_url: str = field(default=DEFAULT_EUTILS_URL, repr=False)
    email: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    tool: str = TOOL_NAME
    batch_size: int = 300
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 120.0
    max_retries: int = 6
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES

    @property
    def eutils_url_display(self) -> str:
        """The base URL as messages and logs show it: any password masked, no query string."""
        return redact_url(self.eutils_url)

    @property
    def url_secrets(self) -> tuple[str, ...]:
        """The base URL's password (or lone user name), as written and decoded, for log filters to blank out."""
        parts = urlsplit(self.eutils_url)
        secret = parts.password if parts.password is not None else parts.username
        return (secret, unquote(secret)) if secret else ()

    @property
    def requests_per_second(self) -> int:
        """NCBI's limit: 10 requests a second with an API key, 3 without."""
        return 10 if self.api_key else 3

    def hypothesis(self, hypothesis_id: str) -> Hypothesis:
        """Return the hypothesis with this id, or raise a ConfigError listing the known ones."""
        for hypothesis in self.hypotheses:
            if hypothesis.id == hypothesis_id:
                return hypothesis
        known = ", ".join(h.id for h in self.hypotheses)
        raise ConfigError(f"unknown hypothesis {hypothesis_id!r}: choose one of {known}")

    @property
    def causes(self) -> tuple[Hypothesis, ...]:
        """The hypotheses that are causes, without the baseline."""
        return tuple(h for h in self.hypotheses if not h.baseline)

    @property
    def baseline(self) -> Hypothesis | None:
        """The fibromyalgia baseline entry, if the file has one."""
        return next((h for h in self.hypotheses if h.baseline), None)


def load_hypotheses(path: Path) -> tuple[Hypothesis, ...]:
    """Read and validate a hypotheses TOML file."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{name}: file not found; pass an existing file with --hypotheses or TRACKER_HYPOTHESES") from None
    except OSError as error:
        raise ConfigError(f"{name}: cannot be read ({error.strerror}); check the path and its permissions") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: is not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{name}: is not valid TOML ({error}); fix the syntax at that line") from None

    entries = document.get("hypothesis")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f'{name}: has no [[hypothesis]] entries; add at least one with id, label, description and query')

    hypotheses: list[Hypothesis] = []
    seen_ids: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        where = f"{name}: [[hypothesis]] #{position}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} is not a table; write it as [[hypothesis]] with key = value lines")
        entry_id = entry.get("id")
        if isinstance(entry_id, str) and entry_id:
            where = f"{name}: [{entry_id}]"
        for key in _REQUIRED_TEXT_FIELDS:
            value = entry.get(key)
            if value is None:
                raise ConfigError(f'{where} has no "{key}"; add {key} = "..."')
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f'{where} has an empty or non-text "{key}"; give it a non-empty string')
        unknown = sorted(set(entry) - _KNOWN_FIELDS)
        if unknown:
            raise ConfigError(f"{where} has unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KNOWN_FIELDS))}")
        if not _ID_PATTERN.match(entry_id):
            raise ConfigError(
                f'{where}: id "{entry_id}" is not valid; use lower-case letters, digits, "_" or "-", starting with a letter'
            )
        if entry_id in seen_ids:
            raise ConfigError(f'{where}: id "{entry_id}" is used twice; give each hypothesis its own id')
        seen_ids.add(entry_id)
        terms = entry.get("terms", [])
        if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
            raise ConfigError(f'{where}: "terms" must be a list of non-empty strings, e.g. terms = ["serotonin", "5-HT"]')
        baseline = entry.get("baseline", False)
        if not isinstance(baseline, bool):
            raise ConfigError(f'{where}: "baseline" must be true or false')
        expect = entry.get("expect", DEFAULT_EXPECT)
        if not isinstance(expect, str) or expect not in EXPECTS:
            raise ConfigError(f'{where}: "expect" is {expect!r}; use one of {", ".join(EXPECTS)} '
                              f'(what the hypothesis predicts in people with fibromyalgia)')
        _check_query(where, entry["query"])
        hypotheses.append(
            Hypothesis(
                id=entry_id,
                label=entry["label"].strip(),
                description=" ".join(entry["description"].split()),
                query=entry["query"].strip(),
                terms=tuple(t.strip() for t in terms),
                baseline=baseline,
                expect=expect,
            )
        )
    if sum(h.baseline for h in hypotheses) > 1:
        raise ConfigError(f"{name}: more than one entry has baseline = true; mark only the all-fibromyalgia entry")
    return tuple(hypotheses)


def _check_query(where: str, query: str) -> None:
    """Refuse queries PubMed would reject for their shape: unbalanced brackets or quotes."""
    if query.count('"') % 2:
        raise ConfigError(f'{where}: "query" has an unmatched double quote; close every quoted phrase')
    depth = 0
    for character in query:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth < 0:
            break
    if depth != 0:
        raise ConfigError(f'{where}: "query" has unbalanced parentheses; make every "(" have its ")"')
    if query.count("[") != query.count("]"):
        raise ConfigError(f'{where}: "query" has an unmatched field tag bracket; write tags as [Title/Abstract]')


def redact_url(url: str) -> str:
    """Mask a URL's credentials and drop its query, as pip shows index URLs: `https://user:****@host/path`.

    A user name without a password is masked too: it is then usually a token.
    """
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:  # e.g. an unclosed IPv6 bracket: show nothing of it rather than risk a secret
        return "(an unreadable URL)"
    host = parts.netloc.rpartition("@")[2]
    if password is not None:
        host = f"{username}:****@{host}"
    elif username is not None:
        host = f"****@{host}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _env_seconds(environ: dict[str, str], key: str, default: float, minimum: float, maximum: float) -> float:
    text = environ.get(key)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{key}={text!r} is not a number of seconds; set it to one from {minimum:g} to "
                          f"{maximum:g}, e.g. {key}={default:g}") from None
    if not minimum <= value <= maximum:  # NaN fails this too
        raise ConfigError(f"{key}={text} is out of range; set it to a number of seconds from {minimum:g} to "
                          f"{maximum:g}, e.g. {key}={default:g}")
    return value


def _env_int(environ: dict[str, str], key: str, default: int, minimum: int, maximum: int) -> int:
    text = environ.get(key)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{key}={text!r} is not a whole number; set it to one from {minimum} to {maximum}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{key}={value} is out of range; set it to one from {minimum} to {maximum}")
    return value


def load_settings(
    hypotheses_path: str | os.PathLike[str] | None = None,
    db_path: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Build Settings from explicit arguments first, then the environment, then the defaults."""
    environ = dict(os.environ if environ is None else environ)
    hypotheses_file = Path(hypotheses_path or environ.get("TRACKER_HYPOTHESES") or DEFAULT_HYPOTHESES_PATH).expanduser()
    database = Path(db_path or environ.get("TRACKER_DB") or DEFAULT_DB_PATH).expanduser()
    eutils_url = environ.get("NCBI_EUTILS_URL") or DEFAULT_EUTILS_URL
    if not re.match(r"^https?://[^/\s]+", eutils_url):
        raise ConfigError(f"NCBI_EUTILS_URL={redact_url(eutils_url)!r} is not an http(s) URL; "
                          f"unset it to use {DEFAULT_EUTILS_URL}")
    if not eutils_url.endswith("/"):
        eutils_url += "/"
    if redact_url(eutils_url) == "(an unreadable URL)":
        raise ConfigError(f"NCBI_EUTILS_URL is not a valid URL; unset it to use {DEFAULT_EUTILS_URL}")
    email = environ.get("NCBI_EMAIL") or None
    if email is not None and ("@" not in email or any(c.isspace() for c in email)):
        raise ConfigError("NCBI_EMAIL is not an e-mail address; set it to the address NCBI may contact you at")
    api_key = environ.get("NCBI_API_KEY") or None
    if api_key is not None and not re.fullmatch(r"[A-Za-z0-9]+", api_key):
        raise ConfigError("NCBI_API_KEY has characters an NCBI key never has; copy it again from your NCBI account settings")
    return Settings(
        hypotheses=load_hypotheses(hypotheses_file),
        hypotheses_path=hypotheses_file,
        db_path=database,
        eutils_url=eutils_url,
        email=email,
        api_key=api_key,
        batch_size=_env_int(environ, "TRACKER_BATCH_SIZE", 300, 1, 10_000),
        request_deadline_s=_env_seconds(environ, "TRACKER_REQUEST_DEADLINE_S", DEFAULT_REQUEST_DEADLINE_S, 1, 86_400),
    )
