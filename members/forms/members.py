from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.forms import DateInput
from members.models import Member, MemberStatus
from members.nik import check_nik
from members.phone import normalise_phone


class MemberForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = [
            "full_name",
            "nik",
            "gender",
            "birth_place",
            "birth_date",
            "phone",
            "business",
            "address",
            "rt",
            "rw",
            "dusun",
            "desa",
            "joined_on",
        ]
        widgets = {
            "birth_date": DateInput(),
            "joined_on": DateInput(),
            "nik": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 16, "autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "placeholder": "0812 3456 7890"}),
            "rt": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 3, "placeholder": "001"}),
            "rw": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 3, "placeholder": "001"}),
        }

    def __init__(self, *args, lkmm, **kwargs):
        super().__init__(*args, **kwargs)
        self.lkmm = lkmm
        self.fields["gender"].widget = forms.RadioSelect(choices=self.fields["gender"].choices[1:])

    def clean_nik(self):
        nik = self.cleaned_data["nik"].strip().replace(" ", "")
        if Member.objects.filter(lkmm=self.lkmm, nik=nik).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("NIK ini sudah terdaftar sebagai anggota LKMM ini."))
        return nik

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        cleaned = super().clean()
        if "nik" in cleaned:
            for field, message in check_nik(
                cleaned["nik"], birth_date=cleaned.get("birth_date"), gender=cleaned.get("gender")
            ).items():
                self.add_error(field, message)
        return cleaned


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Cari"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Semua status")), *MemberStatus.choices]
    )
    arrears = forms.BooleanField(label=_("Hanya yang menunggak"), required=False)
