"""Text that a spreadsheet would run as a formula, and how exports keep it text (CSV injection).

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some programs skip
before looking) is a formula to Excel and LibreOffice: a record titled ``=HYPERLINK("http://…")`` would
become a live link in every export. Following the OWASP guidance on CSV injection, exports put a single
quote in front of such text; imports take that quote off again, so an exported file re-imports unchanged.

>>> escape_formula("=1+1"), unescape_formula("'=1+1"), unescape_formula("'tis")
("'=1+1", '=1+1', "'tis")
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def escape_formula(text: str) -> str:
    """``text`` as a spreadsheet will show it and never run it."""
    return QUOTE + text if is_formula_like(text) else text


def unescape_formula(text: str) -> str:
    """Undo ``escape_formula``: only a quote followed by a formula character is ours to remove."""
    return text[1:] if text.startswith(QUOTE) and is_formula_like(text[1:]) else text
