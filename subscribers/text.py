"""Persian-aware text normalization, so the same name typed on two keyboards compares equal."""

from __future__ import annotations

import re
import unicodedata

# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits to ASCII.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# Arabic letters that Arabic keyboards type where Persian ones type their own forms.
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه", "أ": "ا", "إ": "ا", "ٱ": "ا"})
# Zero-width (non-)joiners, the tatweel and the short-vowel marks change how text looks, not what it says.
_INVISIBLE = re.compile("[\u200b-\u200f\u0640\u064b-\u065f\u0670\ufeff]")
_SPACES = re.compile(r"\s+")


def to_ascii_digits(text: str) -> str:
    """Replace Persian and Arabic-Indic digits with ASCII ones."""
    return text.translate(_DIGITS)


def clean_text(text: str) -> str:
    """Tidy what a person typed for storage: ASCII digits, Persian letters, single spaces, trimmed."""
    # The ZWNJ stays in stored text: it is correct Persian spelling, only searches ignore it.
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS).translate(_LETTERS)
    return _SPACES.sub(" ", text).strip()


def search_key(text: str) -> str:
    """Reduce text to the form searches and duplicate checks compare: no case, no spacing, no marks.

    Spaces go too, so "علی رضا", "علی‌رضا" (with a ZWNJ) and "علیرضا" are one name.
    """
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS).translate(_LETTERS).casefold()
    return _SPACES.sub("", _INVISIBLE.sub("", text))
