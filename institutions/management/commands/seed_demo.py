"""Demo data: one Dinas, three LKMMs with staff, ~50 members each and six months of loans.

Everything is made through the same services the pages use, so the demo carries its books and audit
trail. The demo logins (password `lkmm-demo`) exist only where this command ran.
"""

import contextlib
import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from institutions.decisions import request_create
from institutions.models import BoardMember, BoardRole, Dinas, ElectionMethod, Lkmm, RequestKind, Role
from institutions.services import board_elect, dinas_create, lkmm_create, staff_create
from ledger.models import AccountCode, CapitalKind, EntryKind
from ledger.selectors import cash_lowest_from
from ledger.services import capital_source_record, cash_days_deferred, voucher_post
from loans.models import Loan, LoanStatus
from loans.selectors import installments_with_paid
from loans.services import (
    loan_apply,
    loan_approve,
    loan_disburse,
    loan_position,
    product_create,
    repayment_record,
    repayment_reverse,
)
from members.models import BusinessType, GroupMembership, MemberStatus, Weekday
from members.services import group_create, income_record, member_apply, member_transition
from risk import services as risk_services
from savings.models import SavingsAccount
from savings.services import savings_deposit, savings_withdraw
from shu import services as shu_services

PASSWORD = "lkmm-demo"

LKMMS = [
    # code, name, desa, kecamatan, kecamatan code in NIKs, share of late and of defaulting borrowers
    ("semenggu", "LKMM Semenggu", "Semenggu", "Sumbersari", "10", 0.12, 0.02),
    ("wonosari", "LKMM Wonosari", "Wonosari", "Puger", "04", 0.25, 0.10),
    ("mandiri", "LKMM Mandiri", "Kebonsari", "Sumbersari", "10", 0.10, 0.02),
]

WOMEN = [
    "Siti",
    "Sri",
    "Tutik",
    "Endang",
    "Sulastri",
    "Yuli",
    "Rahayu",
    "Nur",
    "Lilik",
    "Ani",
    "Wahyuni",
    "Suminah",
    "Munawaroh",
    "Khotimah",
    "Fatimah",
    "Sumiati",
    "Lestari",
    "Rini",
    "Dewi",
    "Musrifah",
]
MEN = [
    "Ahmad",
    "Slamet",
    "Budi",
    "Hasan",
    "Joko",
    "Supriyadi",
    "Agus",
    "Imam",
    "Sugeng",
    "Rudi",
    "Mohammad",
    "Sutrisno",
    "Bambang",
    "Hariyanto",
    "Abdul",
    "Samsul",
]
FAMILY = [
    "Wati",
    "Rahmawati",
    "Hidayat",
    "Santoso",
    "Susanto",
    "Hasanah",
    "Maimunah",
    "Wibowo",
    "Prasetyo",
    "Kurniawan",
    "Handayani",
    "Setiawan",
    "Aminah",
    "Saputra",
    "Ningsih",
    "Purnomo",
    "Fauzi",
    "Sholeh",
]
BUSINESSES = [
    "Warung kelontong",
    "Jual sayur keliling",
    "Gorengan dan kopi",
    "Jahit pakaian",
    "Ternak kambing",
    "Ternak ayam kampung",
    "Tani cabai",
    "Jual nasi pecel",
    "Tambal ban",
    "Kerajinan anyaman bambu",
    "Jual pulsa dan token listrik",
    "Kue basah titipan",
    "Bengkel sepeda",
    "Jual es dan minuman",
    "Toko bangunan kecil",
    "Laundry kiloan",
]
# First word of a demo business -> its business type (members.migrations.0003 seeds the types).
BUSINESS_TYPE_OF = {
    "Warung": "Warung",
    "Jual": "Dagang keliling",
    "Gorengan": "Makanan dan minuman",
    "Jahit": "Jasa",
    "Ternak": "Peternakan",
    "Tani": "Pertanian",
    "Tambal": "Jasa",
    "Kerajinan": "Kerajinan",
    "Kue": "Makanan dan minuman",
    "Bengkel": "Jasa",
    "Toko": "Toko",
    "Laundry": "Jasa",
}
DUSUN = ["Krajan", "Karanganyar", "Tegalrejo", "Sumberejo", "Kebonagung"]
AMOUNTS = [500_000, 750_000, 1_000_000, 1_000_000, 1_500_000, 2_000_000]


class Command(BaseCommand):
    help = "Load demo data (idempotent: does nothing when the demo LKMMs exist)."

    def handle(self, *args, **options):
        if Lkmm.objects.filter(code="semenggu").exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        self.rng = random.Random(20091116)
        self.shared_niks = {}
        types = {t.name: t for t in BusinessType.objects.all()}
        self.business_types = {word: types[name] for word, name in BUSINESS_TYPE_OF.items()}
        self.today = timezone.localdate()
        with transaction.atomic():
            User = get_user_model()
            User.objects.create_superuser("admin", "admin@example.org", PASSWORD, first_name="Admin")
            if not Dinas.objects.filter(code="jember").exists():
                dinas_create(
                    code="jember",
                    name="Dinas Koperasi dan UMKM Kabupaten Jember",
                    kabupaten="Jember",
                    provinsi="Jawa Timur",
                )
            self.dinas = Dinas.objects.get(code="jember")
            staff_create(
                dinas=self.dinas,
                username="dinas",
                password=PASSWORD,
                role=Role.DINAS,
                first_name="Rina",
                last_name="Dinas Koperasi",
            )
            for spec in LKMMS:
                self.seed_lkmm(*spec)
            self.seed_second_city()
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data loaded. Logins: admin, dinas, ketua.<lkmm>, pengelola.<lkmm> "
                "(semenggu, wonosari, mandiri) and sekretaris.mandiri (an approver: Mandiri works with "
                "four eyes); dinas.bontang and ketua.guntung (a second city: Bontang's reviewer sees only "
                f"its own LKMM); password {PASSWORD}"
            )
        )

    def seed_second_city(self):
        """A second Dinas with one young LKMM and no loans yet, so that each reviewer's scope shows."""
        bontang = dinas_create(
            code="bontang",
            name="Dinas Koperasi, Usaha Kecil dan Menengah Kota Bontang",
            kabupaten="Bontang",
            provinsi="Kalimantan Timur",
        )
        lkmm = lkmm_create(
            dinas=bontang,
            code="guntung",
            name="LKMM Guntung",
            desa="Guntung",
            kecamatan="Bontang Utara",
            address="Jl. Guntung No. 1",
            founded_on=self.today.replace(day=1) - datetime.timedelta(days=60),
            default_rounding_unit=100,
        )
        staff_create(
            dinas=bontang,
            username="dinas.bontang",
            password=PASSWORD,
            role=Role.DINAS,
            first_name="Yusuf",
            last_name="Dinas Bontang",
        )
        staff_create(
            username="ketua.guntung", password=PASSWORD, role=Role.KETUA, lkmm=lkmm, first_name="Andi"
        )

    def seed_lkmm(self, code, name, desa, kecamatan, district, late_share, default_share):
        rng, today = self.rng, self.today
        lkmm = lkmm_create(
            dinas=self.dinas,
            code=code,
            name=name,
            desa=desa,
            kecamatan=kecamatan,
            address=f"Jl. {desa} No. 1",
            founded_on=datetime.date(2009, 11, 16),
            default_rounding_unit=100,
        )
        ketua = staff_create(
            username=f"ketua.{code}",
            password=PASSWORD,
            role=Role.KETUA,
            lkmm=lkmm,
            first_name=rng.choice(MEN),
            last_name=rng.choice(FAMILY),
        ).user
        pengelola = staff_create(
            username=f"pengelola.{code}",
            password=PASSWORD,
            role=Role.PENGELOLA,
            lkmm=lkmm,
            first_name=rng.choice(WOMEN),
            last_name=rng.choice(FAMILY),
        ).user
        # Members joined early last year, so savings, last year's loans, its month-end closes and its SHU
        # (seed_shu) are history; this year's loans keep the last 200 days' portfolio in every state.
        start = datetime.date(today.year - 1, 1, 6)
        recent = today - datetime.timedelta(days=200)
        capital_source_record(
            lkmm=lkmm,
            actor=ketua,
            kind=CapitalKind.HIBAH,
            received_on=start,
            source_name=f"Hibah APBD Kabupaten Jember {start.year}",
            amount=40_000_000,
        )
        weekly = product_create(
            lkmm=lkmm,
            actor=ketua,
            name="Mingguan 10 kali",
            interest_method="flat",
            frequency="weekly",
            rate_per_month=Decimal("1.5"),
            installment_count=10,
            rounding_unit=100,
            min_amount=100_000,
            max_amount=2_000_000,
            admin_fee_percent=Decimal("1"),
            admin_fee_mode="deducted",
            late_fee=2_000 if code == "wonosari" else 0,
        )
        monthly = product_create(
            lkmm=lkmm,
            actor=ketua,
            name="Bulanan 6 kali",
            interest_method="flat",
            frequency="monthly",
            rate_per_month=Decimal("1.25"),
            installment_count=6,
            rounding_unit=1000,
            min_amount=500_000,
            max_amount=2_000_000,
            waive_interest_on_payoff=True,
        )
        board = self.seed_board(lkmm, ketua, pengelola)
        members = []
        for n in range(52):
            # Referees: the board vouches for the first members, members vouch for later ones.
            referee = (
                {"referee_board": board}
                if n < 5
                else {"referee_member": rng.choice(members[: n - 1] or members)}
            )
            member = self.seed_member(lkmm, pengelola, district, start, n, referee)
            if n >= 49:
                continue  # applications waiting for the ketua (and one to be rejected below)
            members.append(member_transition(member=member, to=MemberStatus.AKTIF, actor=ketua))
        member_transition(
            member=member,
            to=MemberStatus.DITOLAK,
            actor=ketua,
            reason="Usaha belum berjalan; diminta mendaftar lagi setelah usaha dimulai.",
        )
        self.shared_niks.setdefault(code, members[1])
        self.seed_groups(lkmm, members, pengelola, start)
        # Loan by loan, so out of date order: the kept kas days are rebuilt once, after.
        with cash_days_deferred(lkmm=lkmm):
            for n, member in enumerate(members):
                if n == 19:
                    member_transition(
                        member=member, to=MemberStatus.KELUAR, actor=pengelola, reason="Pindah ke Surabaya."
                    )
                    continue
                if n == 29:
                    member_transition(
                        member=member,
                        to=MemberStatus.DIBLOKIR,
                        actor=pengelola,
                        reason="Memakai pinjaman atas nama orang lain.",
                    )
                    continue
                if n % 10 == 9:
                    continue  # some members have not borrowed yet
                behaviour = rng.random()
                kind = (
                    "default"
                    if behaviour < default_share
                    else "late"
                    if behaviour < default_share + late_share
                    else "ontime"
                )
                product = monthly if n % 7 == 0 else weekly
                if n % 2 == 0 and kind != "default":
                    # An earlier cycle, repaid before this one: the interest last year's SHU is shared from.
                    spread = max(21, (recent - start).days - 80)
                    first = start + datetime.timedelta(days=rng.randint(20, spread))
                    self.seed_loan(member, weekly, first, "ontime", ketua, pengelola)
                disbursed = recent + datetime.timedelta(days=rng.randint(10, 185))
                if n in (3, 17):
                    # An application waiting for the ketua, and an approved one waiting for its money.
                    pending = loan_apply(
                        member=member,
                        product=weekly,
                        principal=1_000_000,
                        purpose="Tambah modal usaha",
                        applied_on=today - datetime.timedelta(days=1),
                        actor=pengelola,
                    )
                    if n == 17:
                        loan_approve(loan=pending, actor=ketua)
                    continue
                loan = self.seed_loan(member, product, disbursed, kind, ketua, pengelola)
                # Good payers who finished early take a second, larger loan (the next cycle).
                if loan.status == LoanStatus.LUNAS and kind == "ontime":
                    last_paid = loan.repayments.order_by("-paid_on").first().paid_on
                    income_record(
                        member=member,
                        actor=pengelola,
                        recorded_on=last_paid,
                        turnover=int(member.turnover_at_admission * 1.2),
                        net_income=int(member.net_income_at_admission * 1.25),
                        note="Akhir siklus pinjaman 1",
                    )
                    again = last_paid + datetime.timedelta(days=rng.randint(3, 14))
                    if again < today - datetime.timedelta(days=7):
                        self.seed_loan(member, weekly, again, "ontime", ketua, pengelola, amount=2_000_000)
        self.seed_savings(lkmm, ketua, pengelola, members)
        self.seed_corrections(lkmm, ketua, pengelola)
        self.seed_bank_deposits(
            lkmm, pengelola, start, stop=today - datetime.timedelta(days=12 if code == "wonosari" else 1)
        )
        self.seed_reserve(lkmm, ketua, start)
        if code == "mandiri":
            self.seed_four_eyes(lkmm, pengelola)

    def seed_bank_deposits(self, lkmm, pengelola, start, stop):
        """The Dinas keeps kas at an LKMM under its limit: each week the pengelola takes what is above
        Rp300.000 to the bank. Wonosari stopped going to the bank lately, so its kas is over the limit."""
        keep = 300_000
        days = [start + datetime.timedelta(days=7 * week) for week in range(1, (stop - start).days // 7 + 1)]
        for day in [*days, stop]:
            _on, lowest = cash_lowest_from(lkmm=lkmm, code=AccountCode.KAS, on=day)
            if lowest > keep:
                voucher_post(
                    lkmm=lkmm,
                    actor=pengelola,
                    kind=EntryKind.TRANSFER,
                    date=day,
                    amount=lowest - keep,
                    memo="Setor kelebihan kas ke bank",
                    account_code=AccountCode.BANK,
                    cash_account_code=AccountCode.KAS,
                )

    def seed_savings(self, lkmm, ketua, pengelola, members):
        """Every active member paid simpanan pokok when joining and wajib at each month's first group
        meeting since; about a third also save sukarela, and two took some of it out."""
        rng, today = self.rng, self.today
        savers = []
        # Member by member, so out of date order: the kept kas days are rebuilt once, after.
        with cash_days_deferred(lkmm=lkmm):
            for member in members:
                member.refresh_from_db(fields=["status"])
                if member.status != MemberStatus.AKTIF:
                    continue
                savings_deposit(
                    member=member, kind="pokok", amount=10_000, on=member.joined_on, actor=pengelola
                )
                month = (member.joined_on.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
                while month <= today:
                    savings_deposit(member=member, kind="wajib", amount=20_000, on=month, actor=pengelola)
                    if rng.random() < 0.35:
                        amount = rng.choice([10_000, 25_000, 50_000, 100_000])
                        savings_deposit(
                            member=member, kind="sukarela", amount=amount, on=month, actor=pengelola
                        )
                        savers.append(member)
                    month = (month + datetime.timedelta(days=32)).replace(day=1)
        for member in list(dict.fromkeys(savers))[:2]:
            account = SavingsAccount.objects.get(member=member, kind="sukarela")
            savings_withdraw(
                account=account,
                amount=min(account.balance_derived, 20_000),
                on=today - datetime.timedelta(days=3),
                actor=ketua,
                note="Biaya sekolah anak",
            )

    def seed_reserve(self, lkmm, ketua, start):
        """Month-end reserve allocations; Wonosari writes off its worst loan; Semenggu and Mandiri have
        closed their past months (the Dinas sees that Wonosari has not)."""
        today = self.today
        months = max(8, (today.year - start.year) * 12 + today.month - start.month + 1)
        month_ends = [
            end
            for end in risk_services.month_ends(until=today, months=months)
            if start < end < today.replace(day=1)
        ]
        for end in month_ends:
            with contextlib.suppress(ValidationError):  # the reserve already covered that month
                risk_services.reserve_allocate(lkmm=lkmm, actor=ketua, on=end)
        if lkmm.code == "wonosari":
            worst = Loan.objects.past_due(today).filter(lkmm=lkmm).order_by("oldest_overdue_on").first()
            if worst is not None and (today - worst.oldest_overdue_on).days > 90:
                risk_services.loan_write_off(
                    loan=worst,
                    actor=ketua,
                    on=today - datetime.timedelta(days=3),
                    reason="Peminjam pindah ke luar daerah; kelompok sudah berusaha menagih tiga bulan.",
                )
        else:
            december = datetime.date(today.year - 1, 12, 31)
            for end in month_ends:
                risk_services.month_close(lkmm=lkmm, actor=ketua, month=end.replace(day=1))
                if end == december:
                    # The history covers last year's December: its SHU, before January is closed.
                    self.seed_shu(lkmm, ketua, year=december.year)

    def seed_shu(self, lkmm, ketua, *, year):
        """One past SHU (issue 13): the LKMM's percentages, the year-end close right after December's
        month-end close, the rapat anggota's decision in late January (shares credited to sukarela
        savings) and one Posyandu spending from dana sosial. Only for a year with a surplus."""
        shu_services.rule_set(
            lkmm=lkmm,
            actor=ketua,
            from_year=year,
            reserve=40,
            jasa_simpanan=20,
            jasa_pinjaman=20,
            dana_sosial=10,
            pengurus=10,
            note="AD/ART pasal 21",
        )
        shu_year = shu_services.year_close(lkmm=lkmm, year=year, actor=ketua)
        if shu_year.result <= 0:
            return
        decided_on = min(datetime.date(year + 1, 1, 25), self.today)
        shu_services.shu_distribute(
            shu_year=shu_year,
            actor=ketua,
            decided_on=decided_on,
            decision="sukarela",
            minutes_no=f"03/RAT/{lkmm.code.upper()}/{year + 1}",
            note="Rapat anggota tahunan di balai desa; SHU anggota ditambahkan ke simpanan sukarela.",
        )
        on = min(decided_on + datetime.timedelta(days=5), self.today)
        _when, cash = cash_lowest_from(lkmm=lkmm, code=AccountCode.KAS, on=on)
        amount = min(shu_year.pool_dana_sosial, 250_000, cash) // 1_000 * 1_000
        if amount > 0:
            shu_services.sosial_spend(
                lkmm=lkmm,
                actor=ketua,
                on=on,
                purpose="posyandu",
                description="Makanan tambahan balita Posyandu Dusun Krajan",
                amount=amount,
            )

    def seed_corrections(self, lkmm, ketua, pengelola):
        """A payment typed on the wrong loan and reversed by the ketua, and a group member paying for
        another (tanggung renteng): both happen in every LKMM."""
        active = list(Loan.objects.filter(lkmm=lkmm, status=LoanStatus.AKTIF).order_by("number"))
        if len(active) < 2:
            return
        wrong = active[0]
        position = loan_position(loan=wrong, at=self.today)
        if position["payoff"] > 10_000:
            mistake = repayment_record(
                loan=wrong, amount=10_000, paid_on=self.today - datetime.timedelta(days=2), actor=pengelola
            )
            repayment_reverse(
                repayment=mistake,
                actor=ketua,
                on=self.today - datetime.timedelta(days=1),
                reason="Salah catat: uang ini angsuran anggota lain.",
            )
        for loan in active[1:]:
            mates = GroupMembership.objects.filter(
                left_on__isnull=True,
                group__memberships__member=loan.member,
                group__memberships__left_on__isnull=True,
            ).exclude(member=loan.member)
            mate = mates.select_related("member").first()
            payoff = loan_position(loan=loan, at=self.today)["payoff"]
            if mate is not None and payoff > 50_000:
                repayment_record(
                    loan=loan,
                    amount=50_000,
                    paid_on=self.today,
                    actor=pengelola,
                    paid_by=mate.member,
                    note="Dibayar anggota kelompok karena peminjam sakit.",
                )
                return

    def seed_board(self, lkmm, ketua, pengelola):
        rng = self.rng
        past = datetime.date(2021, 3, 14)
        board_elect(
            lkmm=lkmm,
            actor=ketua,
            held_on=past,
            place=f"Balai Desa {lkmm.desa}",
            attendees=64,
            method=ElectionMethod.MUSYAWARAH,
            notes="Musyawarah warga dusun.",
            seats=[
                {"name": f"{rng.choice(MEN)} {rng.choice(FAMILY)}", "role": BoardRole.KETUA},
                {"name": f"{rng.choice(WOMEN)} {rng.choice(FAMILY)}", "role": BoardRole.BENDAHARA},
                {"name": f"{rng.choice(WOMEN)} {rng.choice(FAMILY)}", "role": BoardRole.SEKRETARIS},
            ],
        )
        current = datetime.date(2024, 3, 10)
        board_elect(
            lkmm=lkmm,
            actor=ketua,
            held_on=current,
            place=f"Balai Desa {lkmm.desa}",
            attendees=71,
            method=ElectionMethod.MUSYAWARAH,
            notes="Pengurus dipilih warga: amanah dan berjiwa sosial.",
            seats=[
                {"name": ketua.get_full_name(), "role": BoardRole.KETUA, "user": ketua},
                {"name": pengelola.get_full_name(), "role": BoardRole.BENDAHARA, "user": pengelola},
                self.secretary_seat(lkmm),
                {"name": f"{rng.choice(MEN)} {rng.choice(FAMILY)}", "role": BoardRole.PENGAWAS},
            ],
        )
        return BoardMember.objects.get(lkmm=lkmm, role=BoardRole.KETUA, term_start=current)

    def secretary_seat(self, lkmm):
        """Mandiri works with four eyes: its sekretaris has a login and is named an approver."""
        name = f"{self.rng.choice(WOMEN)} {self.rng.choice(FAMILY)}"
        if lkmm.code != "mandiri":
            return {"name": name, "role": BoardRole.SEKRETARIS}
        first, last = name.split(" ", 1)
        user = staff_create(
            username=f"sekretaris.{lkmm.code}",
            password=PASSWORD,
            role=Role.PENGELOLA,
            lkmm=lkmm,
            first_name=first,
            last_name=last,
        ).user
        return {"name": name, "role": BoardRole.SEKRETARIS, "user": user, "decides": True}

    def seed_four_eyes(self, lkmm, pengelola):
        """Switch four eyes on for Mandiri and leave a write-off proposed by the pengelola waiting for
        the ketua or the sekretaris."""
        lkmm.four_eyes = True
        lkmm.full_clean()
        lkmm.save(update_fields=["four_eyes"])
        worst = Loan.objects.past_due(self.today).filter(lkmm=lkmm).order_by("oldest_overdue_on").first()
        if worst is None:
            return
        request_create(
            kind=RequestKind.WRITE_OFF,
            lkmm=lkmm,
            actor=pengelola,
            target=f"loan:{worst.pk}",
            summary=f"{worst.code} {worst.member.full_name}",
            loan=worst,
            on=self.today,
            reason="Peminjam sakit berat dan usahanya tutup; keluarga belum sanggup membayar.",
        )

    def seed_groups(self, lkmm, members, actor, start):
        days = [Weekday.SENIN, Weekday.RABU, Weekday.KAMIS, Weekday.SABTU]
        names = [
            "Mawar",
            "Melati",
            "Kenanga",
            "Anggrek",
            "Dahlia",
            "Cempaka",
            "Teratai",
            "Kamboja",
            "Flamboyan",
        ]
        for index in range(len(members) // 5):
            chunk = members[index * 5 : index * 5 + 5]
            group_create(
                lkmm=lkmm,
                actor=actor,
                name=f"Pokmas {names[index]}",
                meeting_day=days[index % 4],
                meeting_place=f"Rumah {chunk[0].full_name}",
                joint_liability=True,
                members=chunk,
                leader=chunk[0],
                on=start,
            )

    def seed_member(self, lkmm, actor, district, start, n, referee):
        rng = self.rng
        shared = self.shared_niks.get("semenggu") if lkmm.code == "wonosari" and n == 0 else None
        female = rng.random() < 0.8  # most LKMM borrowers are women
        birth = datetime.date(rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28))
        day = birth.day + (40 if female else 0)
        nik = f"3509{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{rng.randint(1, 9999):04d}"
        name = f"{rng.choice(WOMEN if female else MEN)} {rng.choice(FAMILY)}"
        if shared is not None:
            # One person who is a member in two LKMMs: the Dinas's list of such people shows her.
            nik, name, birth, female = shared.nik, shared.full_name, shared.birth_date, shared.gender == "P"
        business = rng.choice(BUSINESSES)
        turnover = rng.choice([1_500_000, 2_000_000, 3_000_000, 4_500_000, 6_000_000])
        listed = rng.random() < 0.6
        return member_apply(
            lkmm=lkmm,
            actor=actor,
            application={
                **referee,
                "business_plan": f"Menambah modal {business.lower()} agar dagangan lebih lengkap.",
                "requested_amount": rng.choice(AMOUNTS),
            },
            full_name=name,
            nik=nik,
            kk_number=f"3509{district}{rng.randint(10**9, 10**10 - 1)}",
            gender="P" if female else "L",
            birth_place="Jember",
            birth_date=birth,
            phone=f"+62812{rng.randint(10_000_000, 99_999_999)}",
            whatsapp_consent=n % 4 != 3,  # most members agree to WhatsApp messages; a few do not
            household_size=rng.randint(2, 7),
            kecamatan=lkmm.kecamatan,
            dtsen_listed=listed,
            dtsen_decile=rng.randint(1, 4) if listed else None,
            dtsen_verified_on=start if listed else None,
            business_type=self.business_types[business.split()[0]],
            business=business,
            business_started=start - datetime.timedelta(days=rng.randint(200, 3000)),
            business_location=f"Dusun {rng.choice(DUSUN)}",
            turnover_at_admission=turnover,
            net_income_at_admission=turnover * rng.randint(20, 35) // 100,
            address=f"Jl. Mawar No. {n + 1}",
            rt=f"{rng.randint(1, 6):03d}",
            rw=f"{rng.randint(1, 3):03d}",
            dusun=rng.choice(DUSUN),
            desa=lkmm.desa,
            joined_on=start,
        )

    def seed_loan(self, member, product, disbursed, kind, ketua, pengelola, amount=None):
        rng, today = self.rng, self.today
        amount = amount or rng.choice(AMOUNTS)
        loan = loan_apply(
            member=member,
            product=product,
            principal=amount,
            purpose=member.business,
            applied_on=disbursed - datetime.timedelta(days=2),
            actor=pengelola,
        )
        loan_approve(loan=loan, actor=ketua, on=disbursed - datetime.timedelta(days=1))
        loan = loan_disburse(loan=loan, disbursed_on=disbursed, actor=pengelola)
        stop_after = rng.randint(1, 4) if kind == "default" else None
        last, shortfall = disbursed, 0
        for row in installments_with_paid(loan=loan, at=today):
            if stop_after is not None and row.seq > stop_after:
                break
            delay = rng.randint(-1, 1) if kind == "ontime" else rng.randint(2, 12) if kind == "late" else 0
            paid_on = max(last, row.due_date + datetime.timedelta(days=delay))
            if paid_on > today:
                break
            position = loan_position(loan=loan, at=paid_on)
            # Late fees owed are paid with the installment (allocation takes them first).
            fees = sum(fee for fee, _interest, _principal in position["owed"].values())
            amount = row.total + shortfall + fees
            shortfall = 0
            if kind == "late" and rng.random() < 0.3:
                # Half now, the rest with the next installment: the usual way a late payer catches up.
                shortfall = amount - amount // 2
                amount //= 2
            loan = repayment_record(
                loan=loan,
                amount=min(amount, position["payoff"]),
                paid_on=paid_on,
                actor=pengelola,
            ).loan
            last = paid_on
        loan.refresh_from_db()
        return loan
