"""Refuse XML that declares its own entities, before any parser can expand them.

PubMed's replies (efetch, esearch, einfo) and its saved files never declare entities: their DOCTYPE line only names
NCBI's DTD, which no parser here reads. A document that does declare one is a billion-laughs bomb or an external
entity that would read local files, whatever it claims to be, so it is refused outright rather than expanded.
"""

from __future__ import annotations

import xml.parsers.expat

from tracker.errors import ParseError

# What the user should do about such a document when the caller has nothing more specific to say.
DEFAULT_FIX = "fetch the records from PubMed again instead of using this file"


class EntityGuard:
    """Refuse entity declarations in a document's prolog, fed in chunks alongside the real parser.

    ElementTree's C parser gives no hook for declarations, so a second, bare expat parser reads the prolog
    alongside it and stops caring once the root element opens (a DTD cannot come after it).
    """

    def __init__(self, name: str, fix: str = DEFAULT_FIX) -> None:
        self._name = name
        self._fix = fix
        self._done = False
        self._parser = xml.parsers.expat.ParserCreate()
        self._parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self._parser.EntityDeclHandler = self._refuse_entity
        self._parser.StartElementHandler = self._root_opened

    def feed(self, chunk: bytes) -> None:
        """Scan a chunk of the prolog; a no-op once the root element has opened."""
        if self._done:
            return
        try:
            self._parser.Parse(chunk, False)
        except _RootOpened:
            self._done = True
        except xml.parsers.expat.ExpatError:
            # Malformed prologs are the main parser's to report, with its position.
            self._done = True

    def _refuse_entity(self, entity_name: str, is_parameter_entity: bool, *_: object) -> None:
        kind = "parameter entity" if is_parameter_entity else "entity"
        raise ParseError(
            f"{self._name}: declares the {kind} {entity_name!r} in its DTD at line {self._parser.CurrentLineNumber};"
            f" PubMed XML never does, and expanding it could exhaust memory or read local files — {self._fix}"
        )

    def _root_opened(self, *_: object) -> None:
        raise _RootOpened


def refuse_entity_declarations(document: bytes, name: str, fix: str = DEFAULT_FIX) -> None:
    """Raise ParseError if a whole document in memory declares an entity."""
    EntityGuard(name, fix).feed(document)


class _RootOpened(Exception):
    """Internal signal: the prolog is over."""
