"""NIK (Nomor Induk Kependudukan) parsing, per DOMAIN.md "Identity".

16 digits: province (2) + kabupaten/kota (2) + kecamatan (2) + birth day (women +40) + month +
2-digit year + serial (4, from 0001). There is no check digit.
"""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _

PROVINCE_CODES = frozenset(
    [*range(11, 20), 21, *range(31, 37), *range(51, 54), *range(61, 66), *range(71, 77), 81, 82]
    + list(range(91, 97))
)


class NikError(ValueError):
    pass


@dataclass(frozen=True)
class Nik:
    province: int
    regency: str
    district: str
    day: int
    month: int
    year2: int
    serial: int
    female: bool

    def matches_birth_date(self, birth_date: datetime.date) -> bool:
        return (birth_date.day, birth_date.month, birth_date.year % 100) == (
            self.day,
            self.month,
            self.year2,
        )


def parse_nik(value: str) -> Nik:
    value = (value or "").strip()
    if len(value) != 16 or not (value.isascii() and value.isdigit()):
        raise NikError(_("NIK harus 16 angka."))
    province = int(value[0:2])
    if province not in PROVINCE_CODES:
        raise NikError(_("Kode provinsi %(code)s pada NIK tidak dikenal.") % {"code": value[0:2]})
    raw_day, month, year2 = int(value[6:8]), int(value[8:10]), int(value[10:12])
    female = raw_day > 40
    day = raw_day - 40 if female else raw_day
    serial = int(value[12:16])
    if serial == 0:
        raise NikError(_("Nomor urut NIK (4 angka terakhir) dimulai dari 0001."))
    # Any leap year will do to check the day against the month; the century is not in the NIK.
    try:
        datetime.date(2000, month, day)
    except ValueError:
        raise NikError(_("Tanggal lahir di dalam NIK tidak ada di kalender.")) from None
    return Nik(province, value[2:4], value[4:6], day, month, year2, serial, female)


def check_nik(value: str, *, birth_date: datetime.date | None, gender: str | None) -> dict:
    """Return {field: message} for everything wrong with a NIK given a birth date and gender."""
    try:
        nik = parse_nik(value)
    except NikError as exc:
        return {"nik": str(exc)}
    errors = {}
    if birth_date is not None:
        if not nik.matches_birth_date(birth_date):
            errors["birth_date"] = _(
                "Tanggal lahir tidak sesuai dengan NIK (NIK menunjukkan %(d)02d/%(m)02d/..%(y)02d)."
            ) % {"d": nik.day, "m": nik.month, "y": nik.year2}
        else:
            try:
                datetime.date(birth_date.year, nik.month, nik.day)
            except ValueError:
                errors["birth_date"] = _("Tanggal lahir tidak ada di kalender.")
    if gender in ("L", "P") and nik.female != (gender == "P"):
        errors["gender"] = (
            _("Menurut NIK (tanggal lahir + 40) pemiliknya perempuan.")
            if nik.female
            else _("Menurut NIK pemiliknya laki-laki (perempuan: tanggal lahir + 40).")
        )
    return errors
