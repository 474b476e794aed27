"""The one rule for text people send us: what characters it may hold.

Called once where text enters (the services behind the forms and the API, the importers,
account names), so what is stored is clean; `xml_safe` is the second line, for the XML outputs
(Atom feeds, Open311 XML), which must never fail on a row stored before the rule.

It lives in accounts, the bottom app, because every app's doors take text (a display name is
accounts', a report's description is issues', a service type's name is the catalogue's).
"""

from __future__ import annotations

import re

# C0 controls except tab, newline and carriage return; DEL and the C1 controls; the
# bidirectional embeddings, overrides and isolates (they make text display in another order
# than it reads: "Trojan Source"); lone surrogates, which cannot be encoded; the two
# non-characters. Vertical tab and form feed are handled first, as line breaks.
_UNWANTED = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_UNWANTED_BUT_NUL = re.compile(
    "[\x01-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# What XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value, *, multiline: bool = True, keep_nul: bool = False) -> str:
    """`value` without control characters, bidi overrides or unencodable code points, trimmed.

    Line breaks of every kind (CR LF, CR, vertical tab, form feed, Unicode's separators)
    become "\\n" in multi-line text and a space in single-line text (an address, a name).
    `keep_nul` leaves NUL for the caller to refuse with a message (a report's services do:
    PostgreSQL cannot store it, and a NUL in what a person sent means it arrived broken).
    """
    if value is None:
        return ""
    text = str(value)
    if text.isprintable():
        # Most text: no character of Unicode's "other" or "separator" classes but the ASCII
        # space, so nothing below matches but runs of spaces (an import cleans millions of
        # values; the three passes cost it seconds).
        return " ".join(text.split()) if not multiline else text.strip()
    text = _LINE_BREAKS.sub("\n", text)
    text = (_UNWANTED_BUT_NUL if keep_nul else _UNWANTED).sub("", text)
    if not multiline:
        text = " ".join(text.split())
    return text.strip()


def xml_safe(value: str) -> str:
    """`value` with what XML 1.0 cannot hold removed (the rest is escaped by the writer)."""
    return _NOT_XML.sub("", value)
