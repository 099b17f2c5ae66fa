import pytest
from django.core.exceptions import ValidationError

from accounts.validators import normalise_isni, validate_isni

# ISNI and ORCID share ISO 7064 MOD 11-2; these are published examples (ISNI's own site, and
# ORCID's documentation of the checksum, including one ending in X).
VALID = [
    "0000 0001 2103 2683",
    "0000000121032683",
    "ISNI 0000 0001 2103 2683",
    "0000-0002-1825-0097",
    "0000-0001-5109-3700",
    "0000-0002-1694-233X",
    "0000-0002-1694-233x",
]
INVALID = [
    ("0000 0001 2103 2684", "check digit"),
    ("0000-0002-1825-0098", "check digit"),
    ("0000 0001 2103 268", "16 characters"),
    ("0000 0001 2103 26833", "16 characters"),
    ("X000 0001 2103 2683", "16 characters"),
    ("<b>0000</b>", "16 characters"),
    ("", "16 characters"),
]


@pytest.mark.parametrize("value", VALID)
def test_published_isnis_are_accepted(value):
    validate_isni(value)


@pytest.mark.parametrize(("value", "message"), INVALID)
def test_wrong_isnis_are_refused_with_a_clear_message(value, message):
    with pytest.raises(ValidationError) as exc:
        validate_isni(value)
    assert message in exc.value.messages[0]


def test_isni_is_stored_without_spaces_and_upper_case():
    assert normalise_isni("isni: 0000-0002-1694-233x") == "000000021694233X"
