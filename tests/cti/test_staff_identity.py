"""One identity per member of staff in the audit trail: her login and her phone are one."""

from __future__ import annotations

from cti.staff_identity import Person, Staff

STAFF = Staff(
    [
        Person("marie", "Marie Lambert", "201"),
        Person("claire", "Claire Morin", "205"),
        Person("admin", "Administratrice", None),
    ]
)


def test_a_login_and_a_phone_name_the_same_person() -> None:
    assert STAFF.label("marie") == "Marie Lambert (marie, poste 201)"
    assert STAFF.label("poste 201") == "Marie Lambert (marie, poste 201)"
    assert STAFF.label("admin") == "Administratrice (admin)"
    assert STAFF.label("poste 299") == "poste 299"  # nobody holds it: said as it is
    assert STAFF.label("console:root") == "console:root"


def test_a_person_is_found_by_login_name_or_phone() -> None:
    assert STAFF.authors("Marie") == ("marie", "poste 201")
    assert STAFF.authors("lambert") == ("marie", "poste 201")
    assert STAFF.authors("205") == ("claire", "poste 205")
    assert STAFF.authors("poste 205") == ("claire", "poste 205")
    assert STAFF.authors("console:root") == ("console:root",)
