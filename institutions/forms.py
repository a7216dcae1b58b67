"""Form pieces every app's forms share."""

import re

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from institutions.models import BoardRole, CommunityMeeting


class DateInput(forms.DateInput):
    """The phone's own date picker; the browser shows it in the user's locale."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class RupiahField(forms.IntegerField):
    """Whole rupiah, typed as people write them: "1.250.000", "Rp 1.250.000" or "1250000"."""

    widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
    default_error_messages = {"invalid": _("Tulis jumlah dalam rupiah tanpa sen, misalnya 1.250.000.")}

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"^\s*rp\.?\s*", "", value.strip(), flags=re.IGNORECASE)
            if re.fullmatch(r"\d{1,3}(\.\d{3})+", value):
                value = value.replace(".", "")
            elif not re.fullmatch(r"\d*", value):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, int):
            return f"{value:,}".replace(",", ".")
        return value


def add_service_errors(form, exc: ValidationError):
    """Show a service's ValidationError on the form: next to its field where the form has one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# The board (pengurus): the musyawarah that chose it and its seats, for institutions.views.board_elect.
# (These imports belong at the top of the module; they sit here only while another change edits the top.)


# The rows the elect form starts with; a row left untouched is skipped.
BOARD_ROLE_ROWS = [
    BoardRole.KETUA,
    BoardRole.SEKRETARIS,
    BoardRole.BENDAHARA,
    BoardRole.PENGAWAS,
    BoardRole.PENGAWAS,
]


class BoardMeetingForm(forms.ModelForm):
    class Meta:
        model = CommunityMeeting
        fields = ["held_on", "place", "attendees", "method", "notes"]
        widgets = {"held_on": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def clean_held_on(self):
        held_on = self.cleaned_data["held_on"]
        if held_on > timezone.localdate():
            raise ValidationError(
                _("Catat musyawarah setelah diadakan: tanggalnya tidak boleh di masa depan.")
            )
        return held_on


class BoardSeatForm(forms.Form):
    name = forms.CharField(
        label=_("Nama"),
        max_length=120,
        required=False,
        help_text=_("Boleh kosong bila anggota atau akun staf dipilih."),
    )
    role = forms.ChoiceField(label=_("Jabatan"), choices=BoardRole.choices)
    member = forms.ModelChoiceField(label=_("Anggota LKMM"), queryset=None, required=False)
    user = forms.ModelChoiceField(label=_("Akun staf"), queryset=None, required=False)
    term_end = forms.DateField(label=_("Akhir masa jabatan"), required=False, widget=DateInput())
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


class DecisionNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Catatan keputusan"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Wajib bila menolak."),
    )
