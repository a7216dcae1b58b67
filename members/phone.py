import re

from django.utils.translation import gettext as _


def normalise_phone(value: str) -> str:
    """Indonesian phone numbers in their usual spellings -> "+62...". Empty stays empty.

    Accepts 08xx, 628xx, +628xx, spaces, dots and dashes; refuses what cannot be a number.
    """
    digits = re.sub(r"[\s.\-()]", "", value or "")
    if not digits:
        return ""
    if digits.startswith("+"):
        digits = digits[1:]
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(_("Nomor telepon hanya boleh berisi angka, spasi, titik, tanda hubung dan +."))
    if digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        national = digits
    if not 8 <= len(national) <= 13 or national.startswith("0"):
        raise ValueError(_("Nomor telepon tidak dikenal; tulis seperti 0812 3456 7890."))
    return "+62" + national
