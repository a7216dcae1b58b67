"""Form pieces every app's forms share.

Every form of the project derives from `Form` or `ModelForm` below (tests/test_fuzz.py checks it), whose
`InputLimitsMixin` keeps what people (or scripts) type within what the books and the database can hold:
text loses NUL and other control characters, numbers and dates must be written in ASCII digits (Python's
int() reads "٣٠٠" as 300), integers stay far below PostgreSQL's bigint and dates between 1900-01-01 and a
year ahead (date arithmetic past 9999 raises OverflowError). Fields add their own narrower limits:
`DateField(future=False)` refuses the future, `RupiahField` has a business maximum."""

import datetime
import re

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from institutions.models import BoardRole, CommunityMeeting, Dinas

EARLIEST_DATE = datetime.date(1900, 1, 1)
BIGINT_MAX = 9_223_372_036_854_775_807
# What any integer typed into a form may reach: far below bigint, so sums of a few still fit.
INTEGER_MAX = 10**15
# Whole rupiah: Rp999 miliar is beyond any LKMM's grant, loan, voucher or reserve (a city's revolving
# fund is a few miliar), and a thousand of them still sum well within bigint.
RUPIAH_MAX = 999_999_999_999
# C0 controls but tab, line feed and carriage return (textareas keep their lines), DEL, C1 controls.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_control_characters(value):
    """`value` without NUL and other control characters (PostgreSQL refuses NUL in text)."""
    return _CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


def has_foreign_digits(value):
    """True when `value` holds a digit other than 0-9 (Arabic-Indic, full-width, superscript...)."""
    return isinstance(value, str) and any(ch.isdigit() and not ch.isascii() for ch in value)


def latest_date(years=1):
    return timezone.localdate() + datetime.timedelta(days=365 * years + years // 4)


def check_date(value, *, future=True, years_ahead=1):
    """Refuse a date before 1900-01-01, after `years_ahead` years from today, or (future=False) after
    today."""
    if value is None:
        return
    if isinstance(value, datetime.datetime):
        value = value.date()
    today = timezone.localdate()
    if value < EARLIEST_DATE:
        raise ValidationError(
            _("Tanggal terlalu jauh di masa lalu: paling awal %(date)s."),
            code="date_too_early",
            params={"date": date_format(EARLIEST_DATE, "SHORT_DATE_FORMAT")},
        )
    if not future and value > today:
        raise ValidationError(_("Tanggal ini tidak boleh di masa depan."), code="date_in_future")
    latest = latest_date(years_ahead)
    if value > latest:
        raise ValidationError(
            _("Tanggal terlalu jauh di masa depan: paling lambat %(date)s."),
            code="date_too_late",
            params={"date": date_format(latest, "SHORT_DATE_FORMAT")},
        )


class DateInput(forms.DateInput):
    """The phone's own date picker; the browser shows it in the user's locale."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateField(forms.DateField):
    """A date on the phone's picker. `future=False` where a date after today means nothing (a payment,
    an admission, a voucher); `years_ahead` for the few dates that are planned further (a board term)."""

    widget = DateInput

    def __init__(self, *, future=False, years_ahead=1, **kwargs):
        self.future, self.years_ahead = future, years_ahead
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        check_date(value, future=self.future, years_ahead=self.years_ahead)


class RupiahField(forms.IntegerField):
    """Whole rupiah, typed as people write them: "1.250.000", "Rp 1.250.000" or "1250000"."""

    widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
    default_error_messages = {
        "invalid": _("Tulis jumlah dalam rupiah tanpa sen, misalnya 1.250.000."),
        "max_value": _("Jumlah terlalu besar: paling banyak Rp%(limit_value)s."),
    }

    def __init__(self, *, max_value=RUPIAH_MAX, **kwargs):
        super().__init__(max_value=max_value, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"^\s*rp\.?\s*", "", value.strip(), flags=re.IGNORECASE)
            if re.fullmatch(r"[0-9]{1,3}(\.[0-9]{3})+", value):
                value = value.replace(".", "")
            elif not re.fullmatch(r"[0-9]*", value):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def run_validators(self, value):
        try:
            super().run_validators(value)
        except ValidationError as exc:
            # "Rp999.999.999.999", as the amounts are written everywhere else.
            for error in exc.error_list:
                if error.code == "max_value":
                    error.params = {"limit_value": f"{error.params['limit_value']:,}".replace(",", ".")}
            raise

    def prepare_value(self, value):
        if isinstance(value, int):
            return f"{value:,}".replace(",", ".")
        return value


# Fields whose typed value is read as digits: a foreign digit in them is refused.
_DIGIT_FIELDS = (
    forms.IntegerField,
    forms.DecimalField,
    forms.FloatField,
    forms.DateField,
    forms.DateTimeField,
)


def _reads_digits(field):
    """Numbers and dates, and the text typed on a numeric keypad (NIK, KK, RT/RW, phone)."""
    return isinstance(field, _DIGIT_FIELDS) or field.widget.attrs.get("inputmode") in (
        "numeric",
        "decimal",
        "tel",
    )


def _limit_field(field):
    """The limits every field gets whatever form it is on (idempotent: forms add fields late)."""
    if getattr(field, "_input_limits", False):
        return
    field._input_limits = True
    if isinstance(field, forms.DateField | forms.DateTimeField) and not isinstance(field, DateField):
        field.validators.append(check_date)
    elif isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        if field.max_value is None or field.max_value > INTEGER_MAX:
            field.max_value = INTEGER_MAX
            field.validators.append(MaxValueValidator(INTEGER_MAX))
        if field.min_value is None or field.min_value < -INTEGER_MAX:
            field.min_value = -INTEGER_MAX
            field.validators.append(MinValueValidator(-INTEGER_MAX))


def _without_control_characters(data):
    if hasattr(data, "lists"):  # a QueryDict (immutable) or MultiValueDict
        cleaned = data.copy()
        for key, values in data.lists():
            cleaned.setlist(key, [strip_control_characters(v) for v in values])
        return cleaned
    return {key: strip_control_characters(value) for key, value in data.items()}


class InputLimitsMixin:
    """The project's limits on every form (see the module's docstring); the field classes above add
    their own."""

    def full_clean(self):
        if self.is_bound:
            self.data = _without_control_characters(self.data)
        foreign = set()
        for name, bound_field in self._bound_items():
            _limit_field(bound_field.field)
            if self.is_bound and _reads_digits(bound_field.field) and has_foreign_digits(bound_field.data):
                foreign.add(name)
        super().full_clean()
        for name in foreign:
            if hasattr(self, "cleaned_data"):
                self._errors.pop(name, None)
                self.add_error(name, _("Tulis angka dengan angka biasa 0-9."))

    def _bound_items(self):
        return [(name, self[name]) for name in self.fields]


class Form(InputLimitsMixin, forms.Form):
    pass


class ModelForm(InputLimitsMixin, forms.ModelForm):
    pass


def add_service_errors(form, exc: ValidationError):
    """Show a service's ValidationError on the form: next to its field where the form has one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# The board (pengurus): the musyawarah that chose it and its seats, for institutions.views.board_elect.


# The rows the elect form starts with; a row left untouched is skipped.
BOARD_ROLE_ROWS = [
    BoardRole.KETUA,
    BoardRole.SEKRETARIS,
    BoardRole.BENDAHARA,
    BoardRole.PENGAWAS,
    BoardRole.PENGAWAS,
]


class BoardMeetingForm(ModelForm):
    class Meta:
        model = CommunityMeeting
        fields = ["held_on", "place", "attendees", "method", "notes"]
        field_classes = {"held_on": DateField}
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class BoardSeatForm(Form):
    name = forms.CharField(
        label=_("Nama"),
        max_length=120,
        required=False,
        help_text=_("Boleh kosong bila anggota atau akun staf dipilih."),
    )
    role = forms.ChoiceField(label=_("Jabatan"), choices=BoardRole.choices)
    member = forms.ModelChoiceField(label=_("Anggota LKMM"), queryset=None, required=False)
    user = forms.ModelChoiceField(label=_("Akun staf"), queryset=None, required=False)
    # A board serves some years: its term may end well after next year.
    term_end = DateField(label=_("Akhir masa jabatan"), required=False, future=True, years_ahead=10)
    decides = forms.BooleanField(
        label=_("Penyetuju"),
        required=False,
        help_text=_("Memutus seperti ketua selama menjabat (untuk prinsip empat mata); perlu akun staf."),
    )

    def __init__(self, *args, lkmm, **kwargs):
        from members.models import Member, MemberStatus  # members imports institutions

        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = Member.objects.filter(lkmm=lkmm, status=MemberStatus.AKTIF)
        self.fields["user"].queryset = get_user_model().objects.filter(staff__lkmm=lkmm).order_by("username")
        self.fields["user"].label_from_instance = lambda user: user.get_full_name() or user.get_username()

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("name"):
            if cleaned.get("member"):
                cleaned["name"] = cleaned["member"].full_name
            elif cleaned.get("user"):
                cleaned["name"] = cleaned["user"].get_full_name() or cleaned["user"].get_username()
            elif "name" in cleaned:
                self.add_error("name", _("Tulis nama pengurus, atau pilih anggota atau akun staf."))
        if cleaned.get("decides") and not cleaned.get("user"):
            self.add_error("user", _("Penyetuju harus punya akun staf LKMM ini."))
        return cleaned


class BaseBoardSeatFormSet(forms.BaseFormSet):
    def __init__(self, *args, lkmm, **kwargs):
        self.lkmm = lkmm
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        kwargs = {"lkmm": self.lkmm}
        # A preset role is the row's initial value, so an untouched row counts as empty.
        if index is not None and index < len(BOARD_ROLE_ROWS):
            kwargs["initial"] = {"role": BOARD_ROLE_ROWS[index]}
        return kwargs

    @property
    def seats(self):
        """The filled rows, as board_elect takes them (call after is_valid())."""
        return [form.cleaned_data for form in self.forms if form.cleaned_data]


# No min_num: an empty board is refused by board_elect ("needs a ketua"), in words people understand.
BoardSeatFormSet = forms.formset_factory(
    BoardSeatForm, formset=BaseBoardSeatFormSet, extra=len(BOARD_ROLE_ROWS)
)


class DecisionNoteForm(Form):
    note = forms.CharField(
        label=_("Catatan keputusan"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Wajib bila menolak."),
    )


class PercentField(forms.DecimalField):
    """A percent with at most two decimals, written "5", "5,5" or "5.5"."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 6)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 1000)
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().removesuffix("%").strip().replace(",", ".")
        return super().to_python(value)


class DinasSettingsForm(ModelForm):
    """The Dinas's own settings, edited by its reviewers (institutions.services.dinas_settings_update)."""

    npl_threshold_pct = PercentField(
        label=_("Batas NPL (%)"), help_text=_("LKMM bermasalah bila NPL-nya di atas batas ini.")
    )
    par30_threshold_pct = PercentField(
        label=_("Batas PAR30 (%)"), help_text=_("LKMM perlu perhatian bila PAR30-nya di atas batas ini.")
    )
    coverage_threshold_pct = PercentField(
        label=_("Batas cakupan cadangan (%)"),
        help_text=_("LKMM bermasalah bila cadangan yang ada kurang dari persen ini dari cadangan wajib."),
    )
    cash_limit = RupiahField(
        label=_("Batas uang kas (Rp)"),
        min_value=0,
        help_text=_("Saldo kas akhir hari di atas batas ini diminta disetor ke bank."),
    )

    class Meta:
        model = Dinas
        fields = ["npl_threshold_pct", "par30_threshold_pct", "coverage_threshold_pct", "cash_limit"]
