"""Caller ID normalisation: every French spelling of a number meets in E.164."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from screenpop.phones import normalise


@pytest.mark.parametrize(
    "raw",
    ["06 12 34 56 78", "0612345678", "+33612345678", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78"],
)
def test_french_spellings_of_one_number_meet_in_e164(raw: str) -> None:
    number = normalise(raw)
    assert (number.status, number.e164, number.national) == ("ok", "+33612345678", "06 12 34 56 78")


def test_foreign_withheld_unknown_and_garbage_numbers_say_what_they_are() -> None:
    assert normalise("+32 2 555 12 12").e164 == "+3225551212"
    assert normalise("anonymous").status == "withheld"
    assert normalise("0612345678", withheld=True).status == "withheld"
    assert normalise("").status == normalise(None).status == "unknown"
    bad = normalise("12")
    assert bad.status == "invalid" and bad.reason is not None and "12" in bad.reason


# French mobiles: 06 or 07 then eight digits (drawn directly: filtering seven draws in nine
# away tripped Hypothesis's too-much-filtering health check now and then).
MOBILES = st.builds(
    lambda lead, rest: lead * 10**8 + rest, st.sampled_from([6, 7]), st.integers(0, 10**8 - 1)
)


@given(MOBILES)
def test_every_mobile_number_reads_the_same_in_every_spelling(n: int) -> None:
    digits = f"0{n}"
    spaced = " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    spellings = {digits, spaced, "+33" + digits[1:], "0033 " + digits[1:]}
    assert len({normalise(s).e164 for s in spellings}) == 1
