from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from institutions.forms import DateField, Form, ModelForm, RupiahField
from institutions.models import BoardMember
from members.models import MEMBER_TRANSITIONS, BusinessType, Group, Member, MemberStatus
from members.nik import check_nik
from members.phone import normalise_phone

PHOTO_MAX_BYTES = 2 * 1024 * 1024


def nik_digits(value):
    """A NIK as typed ("3509 1145 0180 0001", "3509-1145-...") -> the digits as stored."""
    return "".join((value or "").split()).replace("-", "").replace(".", "")


class RefereeField(forms.ChoiceField):
    """One select for who vouches: an active member ("m:<id>") or a board member in office ("b:<id>")."""

    def __init__(self, *, lkmm, exclude=None, **kwargs):
        today = timezone.localdate()
        members = Member.objects.filter(lkmm=lkmm, status=MemberStatus.AKTIF).exclude(
            pk=getattr(exclude, "pk", None)
        )
        board = BoardMember.objects.current(today).filter(lkmm=lkmm)
        self._members = {str(m.pk): m for m in members}
        self._board = {str(b.pk): b for b in board}
        choices = [("", "---------")]
        if self._board:
            choices.append((_("Pengurus"), [(f"b:{pk}", str(b)) for pk, b in self._board.items()]))
        choices.append(
            (_("Anggota"), [(f"m:{pk}", f"{m.full_name} ({m.code})") for pk, m in self._members.items()])
        )
        super().__init__(choices=choices, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        kind, _sep, pk = value.partition(":")
        if kind == "m" and pk in self._members:
            return {"referee_member": self._members[pk], "referee_board": None}
        if kind == "b" and pk in self._board:
            return {"referee_member": None, "referee_board": self._board[pk]}
        raise forms.ValidationError(
            self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
        )


class ApplicationFieldsMixin(Form):
    business_plan = forms.CharField(
        label=_("Rencana usaha"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Untuk apa pinjaman pertama dipakai dan bagaimana usaha akan tumbuh."),
    )
    requested_amount = RupiahField(label=_("Pinjaman pertama yang diminta"), min_value=1)

    def application_data(self):
        return {
            **self.cleaned_data["referee"],
            "business_plan": self.cleaned_data["business_plan"],
            "requested_amount": self.cleaned_data["requested_amount"],
        }


class MemberApplicationForm(ApplicationFieldsMixin, ModelForm):
    turnover_at_admission = RupiahField(label=_("Omzet per bulan saat masuk"), required=False, min_value=0)
    net_income_at_admission = RupiahField(label=_("Pendapatan bersih per bulan saat masuk"), required=False)
    confirm_elsewhere = forms.BooleanField(
        label=_("Saya sudah membaca peringatan di atas dan tetap mendaftarkan orang ini."), required=False
    )

    # People copy a NIK from the KTP in groups of four ("3509 1145 0180 0001"): accept the spaces, store
    # the 16 digits.
    nik = forms.CharField(
        label=_("NIK"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    class Meta:
        model = Member
        fields = [
            "full_name",
            "nik",
            "kk_number",
            "gender",
            "birth_place",
            "birth_date",
            "phone",
            "whatsapp_consent",
            "household_size",
            "provinsi",
            "kabupaten",
            "kecamatan",
            "desa",
            "dusun",
            "rt",
            "rw",
            "address",
            "dtsen_listed",
            "dtsen_decile",
            "dtsen_verified_on",
            "business_type",
            "business",
            "business_started",
            "business_location",
            "turnover_at_admission",
            "net_income_at_admission",
            "photo",
            "joined_on",
        ]
        # None of these dates can lie ahead.
        field_classes = {
            "birth_date": DateField,
            "joined_on": DateField,
            "business_started": DateField,
            "dtsen_verified_on": DateField,
        }
        widgets = {
            "kk_number": forms.TextInput(
                attrs={"inputmode": "numeric", "maxlength": 16, "autocomplete": "off"}
            ),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "placeholder": "0812 3456 7890"}),
            "rt": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 3, "placeholder": "001"}),
            "rw": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 3, "placeholder": "001"}),
            "photo": forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
        }

    field_order = [
        *Meta.fields[:-1],
        "referee",
        "business_plan",
        "requested_amount",
        "joined_on",
        "confirm_elsewhere",
    ]

    def __init__(self, *args, lkmm, elsewhere=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lkmm = lkmm
        self.elsewhere = elsewhere or []
        self.fields["referee"] = RefereeField(
            lkmm=lkmm, label=_("Penjamin (yang mengenal dan menjamin pendaftar)")
        )
        self.order_fields(self.field_order)
        self.fields["gender"].widget = forms.RadioSelect(choices=self.fields["gender"].choices[1:])
        self.fields["business_type"].queryset = BusinessType.objects.filter(is_active=True)
        self.fields["business_type"].required = True
        if not self.elsewhere:
            del self.fields["confirm_elsewhere"]

    def clean_nik(self):
        nik = nik_digits(self.cleaned_data["nik"])
        if Member.objects.filter(lkmm=self.lkmm, nik=nik).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("NIK ini sudah terdaftar sebagai anggota LKMM ini."))
        return nik

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and getattr(photo, "size", 0) > PHOTO_MAX_BYTES:
            raise forms.ValidationError(_("Foto terlalu besar (maksimal 2 MB)."))
        return photo

    def clean(self):
        cleaned = super().clean()
        if "nik" in cleaned:
            for field, message in check_nik(
                cleaned["nik"], birth_date=cleaned.get("birth_date"), gender=cleaned.get("gender")
            ).items():
                self.add_error(field, message)
        if cleaned.get("dtsen_listed"):
            if not cleaned.get("dtsen_decile"):
                self.add_error("dtsen_decile", _("Isi desil DTSEN (1-10)."))
        elif cleaned.get("dtsen_decile") or cleaned.get("dtsen_verified_on"):
            self.add_error(
                "dtsen_listed", _("Centang bila terdaftar di DTSEN, atau kosongkan desil dan tanggalnya.")
            )
        return cleaned


class ReapplyForm(ApplicationFieldsMixin, Form):
    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {
            "referee": RefereeField(lkmm=member.lkmm, exclude=member, label=_("Penjamin")),
            **self.fields,
        }


class DecisionForm(Form):
    decision = forms.ChoiceField(
        label=_("Keputusan"),
        choices=[("aktif", _("Setujui")), ("ditolak", _("Tolak"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Alasan"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Wajib bila ditolak."),
    )


class StatusForm(Form):
    """Status changes other than the admission decision and a new application."""

    to = forms.ChoiceField(label=_("Ubah status menjadi"))
    reason = forms.CharField(label=_("Alasan"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        targets = [
            to
            for (frm, to) in MEMBER_TRANSITIONS
            if frm == member.status and frm != MemberStatus.PENDAFTAR and to != MemberStatus.PENDAFTAR
        ]
        self.fields["to"].choices = [(to, MemberStatus(to).label) for to in targets]


class IncomeForm(Form):
    recorded_on = DateField(label=_("Tanggal"))
    turnover = RupiahField(label=_("Omzet per bulan"), min_value=0)
    net_income = RupiahField(label=_("Pendapatan bersih per bulan"))
    note = forms.CharField(label=_("Catatan"), max_length=200, required=False)


class MemberFilterForm(Form):
    q = forms.CharField(label=_("Cari"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Semua status")), *MemberStatus.choices]
    )
    group = forms.ModelChoiceField(
        label=_("Kelompok"), required=False, queryset=Group.objects.none(), empty_label=_("Semua kelompok")
    )
    arrears = forms.BooleanField(label=_("Hanya yang menunggak"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        groups = Group.objects.for_user(user).filter(is_active=True)
        if user.staff.is_dinas:
            # Every LKMM's groups: two LKMMs may both have a "Mawar", so the label names the LKMM.
            groups = groups.select_related("lkmm").order_by("lkmm__name", "name")
            self.fields["group"].label_from_instance = lambda group: f"{group.name} · {group.lkmm.name}"
        self.fields["group"].queryset = groups


class MemberEditForm(MemberApplicationForm):
    """Correcting a member's details, with a reason. Uses the registration form's fields and checks
    (NIK, phone, DTSEN, photo) without the application; NIK and birth date only for who decides."""

    EDITABLE = [
        name
        for name in MemberApplicationForm.Meta.fields
        if name not in ("joined_on", "turnover_at_admission")
    ]
    reason = forms.CharField(label=_("Alasan perubahan"), max_length=200)

    def __init__(self, *args, may_change_identity, **kwargs):
        super().__init__(*args, **kwargs)
        dropped = {"referee", "business_plan", "requested_amount", "joined_on", "confirm_elsewhere"}
        dropped |= {"turnover_at_admission", "net_income_at_admission"}  # the admission's record
        if not may_change_identity:
            dropped |= {"nik", "birth_date"}
        for name in dropped:
            self.fields.pop(name, None)

    def clean(self):
        if "nik" not in self.fields:
            # Keep the NIK checks meaningful for a pengelola's edit: the NIK is not theirs to change.
            self.cleaned_data["nik"] = self.instance.nik
        return super().clean()

    def changes(self):
        """{field: new value} for the member's fields the form changed."""
        return {
            name: self.cleaned_data[name]
            for name in self.changed_data
            if name in self.EDITABLE and name in self.cleaned_data
        }
