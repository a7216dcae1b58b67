"""factory_boy factories that keep related data consistent: a loan's member and product belong to
the loan's LKMM. Money-moving objects are made through the services (see helpers below), never by
factories, so tests see the same books the app writes."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from institutions.models import Dinas, Lkmm, Role, Staff
from ledger.services import chart_ensure
from loans import services as loan_services
from loans.models import LoanProduct
from members.models import Member

PASSWORD = "test-pass-123"


class DinasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dinas
        django_get_or_create = ["code"]

    code = "jember"
    name = factory.LazyAttribute(lambda o: f"Dinas Koperasi dan UMKM {o.kabupaten}")
    kabupaten = factory.LazyAttribute(lambda o: o.code.title())
    provinsi = "Jawa Timur"


def jember():
    """The Dinas every factory-made LKMM and reviewer belongs to unless told otherwise."""
    return DinasFactory(code="jember")


class LkmmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lkmm
        django_get_or_create = ["code"]
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"lkmm{n}")
    name = factory.LazyAttribute(lambda o: f"LKMM {o.code.title()}")
    dinas = factory.LazyFunction(jember)
    desa = "Semenggu"
    kecamatan = "Sumbersari"
    founded_on = datetime.date(2009, 11, 16)

    @factory.post_generation
    def chart(obj, create, extracted, **kwargs):
        if create:
            chart_ensure(lkmm=obj)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class StaffFactory(factory.django.DjangoModelFactory):
    """`StaffFactory(dinas=True)` is a reviewer of Jember; `dinas_of=<Dinas>` names another Dinas (the
    `dinas` trait keeps its old name, so the model's `dinas` field is set through `dinas_of`)."""

    class Meta:
        model = Staff
        rename = {"dinas_of": "dinas"}

    user = factory.SubFactory(UserFactory)
    role = Role.PENGELOLA
    lkmm = factory.SubFactory(LkmmFactory)
    dinas_of = factory.LazyAttribute(lambda o: jember() if o.role == Role.DINAS else None)

    class Params:
        dinas = factory.Trait(role=Role.DINAS, lkmm=None)
        ketua = factory.Trait(role=Role.KETUA)


def make_approver(lkmm, *, username=None, role="bendahara"):
    """A pengelola login seated on the board in office and named an approver: decides as the ketua."""
    from institutions.models import BoardMember, CommunityMeeting

    staff = StaffFactory(lkmm=lkmm, **({"user__username": username} if username else {}))
    meeting = CommunityMeeting.objects.create(
        lkmm=lkmm, held_on=datetime.date(2020, 1, 6), place="Balai desa", attendees=40, method="musyawarah"
    )
    BoardMember.objects.create(
        lkmm=lkmm,
        meeting=meeting,
        name=staff.user.get_username(),
        user=staff.user,
        role=role,
        decides=True,
        term_start=meeting.held_on,
    )
    return staff.user


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    lkmm = factory.SubFactory(LkmmFactory)
    number = factory.Sequence(lambda n: n + 1)
    # A woman born 05/01/1980 in Jember: day 05 + 40 = 45.
    nik = factory.Sequence(lambda n: f"350910450180{n % 9999 + 1:04d}")
    full_name = factory.Sequence(lambda n: f"Siti Anggota {n}")
    gender = "P"
    birth_date = datetime.date(1980, 1, 5)
    desa = "Semenggu"
    business = "Warung kelontong"
    joined_on = datetime.date(2024, 1, 8)
    status = "aktif"


class LoanProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LoanProduct

    lkmm = factory.SubFactory(LkmmFactory)
    name = factory.Sequence(lambda n: f"Mingguan {n}")
    interest_method = "flat"
    frequency = "weekly"
    rate_per_month = Decimal("1.5")
    installment_count = 10
    rounding_unit = 1
    min_amount = 100_000
    max_amount = 5_000_000


def make_loan(
    *, member=None, product=None, principal=1_200_000, applied_on=datetime.date(2026, 1, 1), actor=None
):
    """A loan application, made through the service."""
    member = member or MemberFactory()
    product = product or LoanProductFactory(lkmm=member.lkmm)
    return loan_services.loan_apply(
        member=member,
        product=product,
        principal=principal,
        purpose="Modal warung",
        applied_on=applied_on,
        actor=actor,
    )


def ketua_of(lkmm):
    """The LKMM's ketua login (made on first use), who approves loans in tests."""
    staff = Staff.objects.filter(lkmm=lkmm, role=Role.KETUA).select_related("user").first()
    return (staff or StaffFactory(lkmm=lkmm, role=Role.KETUA, user__username=f"ketua.{lkmm.code}")).user


def make_approved_loan(*, approved_by=None, **kwargs):
    loan = make_loan(**kwargs)
    return loan_services.loan_approve(loan=loan, actor=approved_by or ketua_of(loan.lkmm))


def make_active_loan(*, disbursed_on=datetime.date(2026, 1, 1), first_due=None, **kwargs):
    """A disbursed loan, made through the services (so it has its schedule and its journal entry)."""
    loan = make_approved_loan(applied_on=disbursed_on, **kwargs)
    return loan_services.loan_disburse(
        loan=loan, disbursed_on=disbursed_on, actor=kwargs.get("actor"), first_due=first_due
    )


def login(client, user):
    """Log `user` (a User or a Staff) in to the test client as the login page and its second step would.

    Dinas reviewers and admins must also give a code from their authenticator app: they get a confirmed
    TOTP device and a session marked verified with it (pass_second_factor), so they reach every page."""
    from institutions.security import needs_second_factor

    user = getattr(user, "user", user)
    client.force_login(user)
    if needs_second_factor(user):
        pass_second_factor(client, user)
    return client


def pass_second_factor(client, user):
    """Mark the client's session verified by a TOTP device of `user`, as the code page does."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = getattr(user, "user", user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
