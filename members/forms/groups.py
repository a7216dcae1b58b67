from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from institutions.forms import Form, ModelForm
from members.models import Group, GroupMembership, Member, MemberStatus


def members_without_group(lkmm):
    """Active members of `lkmm` who are in no active group: the ones a group may take in."""
    in_group = GroupMembership.objects.filter(member=OuterRef("pk"), left_on__isnull=True)
    return Member.objects.filter(lkmm=lkmm, status=MemberStatus.AKTIF).exclude(Exists(in_group))


class GroupCreateForm(ModelForm):
    members = forms.ModelMultipleChoiceField(
        label=_("Anggota kelompok"), queryset=Member.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    leader = forms.ModelChoiceField(
        label=_("Ketua kelompok"),
        queryset=Member.objects.none(),
        help_text=_("Salah satu anggota yang dicentang."),
    )

    class Meta:
        model = Group
        fields = ["name", "meeting_day", "meeting_place", "joint_liability", "members", "leader"]

    def __init__(self, *args, lkmm, **kwargs):
        super().__init__(*args, **kwargs)
        eligible = members_without_group(lkmm)
        self.fields["members"].queryset = eligible
        self.fields["leader"].queryset = eligible
        self.fields["members"].help_text = _(
            "Anggota aktif yang belum masuk kelompok; kelompok beranggota %(min)d sampai %(max)d orang."
        ) % {"min": lkmm.group_min_size, "max": lkmm.group_max_size}


class GroupForm(ModelForm):
    """Edit a group's details; members join and leave through their own forms."""

    class Meta:
        model = Group
        fields = ["name", "meeting_day", "meeting_place", "joint_liability", "leader"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = Member.objects.in_group(self.instance)
        self.fields["leader"].required = True
        self.fields["leader"].help_text = _("Salah satu anggota kelompok.")


class GroupAddMemberForm(Form):
    member = forms.ModelChoiceField(label=_("Anggota"), queryset=Member.objects.none())

    def __init__(self, *args, group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members_without_group(group.lkmm)


class GroupRemoveMemberForm(Form):
    member = forms.ModelChoiceField(label=_("Anggota"), queryset=Member.objects.none())
    reason = forms.CharField(label=_("Alasan"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = Member.objects.in_group(group)
