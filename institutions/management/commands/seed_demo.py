"""Demo data: one Dinas, three LKMMs with staff, ~50 members each and six months of loans.

Everything is made through the same services the pages use, so the demo carries its books and audit
trail. The demo logins (password `lkmm-demo`) exist only where this command ran.
"""

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from institutions.models import Lkmm, Role
from institutions.services import lkmm_create, staff_create
from ledger.models import AccountCode, EntryKind
from ledger.services import entry_post
from loans.models import LoanStatus
from loans.selectors import installments_with_paid
from loans.services import loan_apply, loan_disburse, product_create, repayment_record
from members.services import member_register

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
DUSUN = ["Krajan", "Karanganyar", "Tegalrejo", "Sumberejo", "Kebonagung"]
AMOUNTS = [500_000, 750_000, 1_000_000, 1_000_000, 1_500_000, 2_000_000]


class Command(BaseCommand):
    help = "Load demo data (idempotent: does nothing when the demo LKMMs exist)."

    def handle(self, *args, **options):
        if Lkmm.objects.filter(code="semenggu").exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        self.rng = random.Random(20091116)
        self.today = timezone.localdate()
        with transaction.atomic():
            User = get_user_model()
            User.objects.create_superuser("admin", "admin@example.org", PASSWORD, first_name="Admin")
            staff_create(
                username="dinas",
                password=PASSWORD,
                role=Role.DINAS,
                first_name="Rina",
                last_name="Dinas Koperasi",
            )
            for spec in LKMMS:
                self.seed_lkmm(*spec)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data loaded. Logins: admin, dinas, ketua.<lkmm>, pengelola.<lkmm> "
                f"(semenggu, wonosari, mandiri); password {PASSWORD}"
            )
        )

    def seed_lkmm(self, code, name, desa, kecamatan, district, late_share, default_share):
        rng, today = self.rng, self.today
        lkmm = lkmm_create(
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
        start = today - datetime.timedelta(days=200)
        entry_post(
            kind=EntryKind.CASH_IN,
            lkmm=lkmm,
            date=start,
            actor=ketua,
            memo="Hibah modal dari Pemkot",
            lines=[(AccountCode.KAS, 40_000_000, 0), (AccountCode.MODAL_HIBAH, 0, 40_000_000)],
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
        )
        for n in range(50):
            member = self.seed_member(lkmm, pengelola, district, start, n)
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
            disbursed = start + datetime.timedelta(days=rng.randint(10, 185))
            if n in (3, 17):
                # An application waiting for the ketua.
                loan_apply(
                    member=member,
                    product=weekly,
                    principal=1_000_000,
                    purpose="Tambah modal usaha",
                    applied_on=today - datetime.timedelta(days=1),
                    actor=pengelola,
                )
                continue
            loan = self.seed_loan(member, product, disbursed, kind, ketua, pengelola)
            # Good payers who finished early take a second, larger loan (the next cycle).
            if loan.status == LoanStatus.LUNAS and kind == "ontime":
                last_paid = loan.repayments.order_by("-paid_on").first().paid_on
                again = last_paid + datetime.timedelta(days=rng.randint(3, 14))
                if again < today - datetime.timedelta(days=7):
                    self.seed_loan(member, weekly, again, "ontime", ketua, pengelola, amount=2_000_000)

    def seed_member(self, lkmm, actor, district, start, n):
        rng = self.rng
        female = rng.random() < 0.8  # most LKMM borrowers are women
        birth = datetime.date(rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28))
        day = birth.day + (40 if female else 0)
        nik = f"3509{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{rng.randint(1, 9999):04d}"
        first = rng.choice(WOMEN if female else MEN)
        return member_register(
            lkmm=lkmm,
            actor=actor,
            full_name=f"{first} {rng.choice(FAMILY)}",
            nik=nik,
            gender="P" if female else "L",
            birth_place="Jember",
            birth_date=birth,
            phone=f"+62812{rng.randint(10_000_000, 99_999_999)}",
            business=rng.choice(BUSINESSES),
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
        loan = loan_disburse(loan=loan, disbursed_on=disbursed, actor=ketua)
        stop_after = rng.randint(1, 4) if kind == "default" else None
        last, shortfall = disbursed, 0
        for row in installments_with_paid(loan=loan, at=today):
            if stop_after is not None and row.seq > stop_after:
                break
            delay = rng.randint(-1, 1) if kind == "ontime" else rng.randint(2, 12) if kind == "late" else 0
            paid_on = max(last, row.due_date + datetime.timedelta(days=delay))
            if paid_on > today:
                break
            amount = row.total + shortfall
            shortfall = 0
            if kind == "late" and rng.random() < 0.3:
                # Half now, the rest with the next installment: the usual way a late payer catches up.
                shortfall = amount - amount // 2
                amount //= 2
            loan = repayment_record(
                loan=loan, amount=min(amount, self._payoff(loan)), paid_on=paid_on, actor=pengelola
            ).loan
            last = paid_on
        loan.refresh_from_db()
        return loan

    @staticmethod
    def _payoff(loan):
        rows = installments_with_paid(loan=loan, at=datetime.date.max)
        return sum(r.total - r.paid_principal - r.paid_interest for r in rows)
