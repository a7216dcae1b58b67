import datetime

import pytest

from members.nik import check_nik, parse_nik
from members.phone import normalise_phone

D = datetime.date


def test_valid_nik_for_a_man_and_a_woman_born_the_same_day():
    man = parse_nik("3509100501800001")
    woman = parse_nik("3509104501800002")
    assert (man.female, man.day, man.month, man.year2) == (False, 5, 1, 80)
    assert (woman.female, woman.day, woman.month, woman.year2) == (True, 5, 1, 80)
    assert check_nik("3509100501800001", birth_date=D(1980, 1, 5), gender="L") == {}
    assert check_nik("3509104501800002", birth_date=D(1980, 1, 5), gender="P") == {}


@pytest.mark.parametrize(
    ("nik", "birth", "gender", "field", "message"),
    [
        ("350910050180001", D(1980, 1, 5), "L", "nik", "16 angka"),
        ("35091005018000012", D(1980, 1, 5), "L", "nik", "16 angka"),
        ("35091005O1800001", D(1980, 1, 5), "L", "nik", "16 angka"),
        ("9909100501800001", D(1980, 1, 5), "L", "nik", "provinsi"),
        ("3509103102800001", D(1980, 2, 28), "L", "nik", "kalender"),
        ("3509107201800001", D(1980, 1, 5), "P", "nik", "kalender"),  # 72 - 40 = 32
        ("3509100501800000", D(1980, 1, 5), "L", "nik", "0001"),
        ("3509100501800001", D(1980, 1, 6), "L", "birth_date", "tidak sesuai"),
        ("3509100501800001", D(1981, 1, 5), "L", "birth_date", "tidak sesuai"),
        ("3509100501800001", D(1980, 1, 5), "P", "gender", "laki-laki"),
        ("3509104501800001", D(1980, 1, 5), "L", "gender", "perempuan"),
    ],
)
def test_bad_niks_are_refused_with_a_field_message(nik, birth, gender, field, message):
    errors = check_nik(nik, birth_date=birth, gender=gender)
    assert field in errors
    assert message in errors[field]


def test_29_february_nik_needs_a_leap_year_birth_date():
    assert check_nik("3509102902000001", birth_date=D(2000, 2, 29), gender="L") == {}


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("0331 487 123", "+62331487123"),
        ("", ""),
    ],
)
def test_phone_numbers_are_normalised(raw, normalised):
    assert normalise_phone(raw) == normalised


@pytest.mark.parametrize("raw", ["12", "0812-ABC", "+1 555 0100 0000 0000"])
def test_impossible_phone_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw)
