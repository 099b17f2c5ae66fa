"""Validators for identifiers of people (the bottom layer: no other app is imported)."""

import re

from django.core.exceptions import ValidationError

_ISNI_CLEAN = re.compile(r"[\s\-]")
_ISNI_SHAPE = re.compile(r"^\d{15}[\dX]$")


def normalise_isni(value: str) -> str:
    """``"0000 0001 2103 2683"``, ``"isni:0000-0001-2103-2683"`` → ``"0000000121032683"``."""
    value = (value or "").strip().upper()
    if value.startswith("ISNI"):
        value = value[4:].lstrip(": ")
    return _ISNI_CLEAN.sub("", value)


def isni_check_character(first15: str) -> str:
    """ISO 7064 MOD 11-2 check character, as ISNI (ISO 27729) and ORCID use it."""
    total = 0
    for digit in first15:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def validate_isni(value: str) -> None:
    isni = normalise_isni(value)
    if not _ISNI_SHAPE.match(isni):
        raise ValidationError(
            "An ISNI has 16 characters: 15 digits and a final digit or X "
            "(spaces and hyphens are fine).",
            code="isni_shape",
        )
    if isni_check_character(isni[:15]) != isni[15]:
        raise ValidationError(
            "This ISNI's check digit does not match: please check it for a typing mistake.",
            code="isni_checksum",
        )
