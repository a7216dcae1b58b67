"""The first loop, driven through a real Chromium at phone width (360 x 740) as a manager would.

Pengelola logs in and registers an applicant (pendaftar) whom an active member vouches for; ketua
logs in, approves the application in the queue, applies for the first loan, disburses it, records the
first installment and gets the receipt. Every step is saved as a full-page screenshot in
test-artifacts/screenshots/ (plus desktop-width shots of the loan page and the dashboard, and the
member list, a member page and the application queue at 360 and 1280 px), and every page is checked
for horizontal overflow.

Needs Debian's Chromium at /usr/bin/chromium (`apt-get install chromium`; never `playwright install`).
Without it, or without the playwright package, the test is skipped, except when CI=true: CI fails
rather than silently skipping.

Run: .venv/bin/pytest -q tests/test_browser.py   (or -m browser / -m "not browser")
"""

import datetime
import io
import os
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from institutions.models import BoardRole, ElectionMethod
from institutions.services import board_elect
from loans.models import Loan, LoanStatus, Repayment
from members import services
from members.models import BusinessType, Member, MemberStatus, Weekday
from tests.factories import (
    PASSWORD,
    LkmmFactory,
    LoanProductFactory,
    MemberFactory,
    StaffFactory,
    make_active_loan,
)

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def _unavailable(reason):
    """Skip on a developer's machine; fail in CI, which must never skip silently."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)", pytrace=False)
    pytest.skip(reason)


class Steps:
    """Numbered full-page screenshots, each checking the page does not scroll sideways."""

    def __init__(self, page):
        self.page = page
        self.n = 0

    def shot(self, name, *, width=PHONE["width"]):
        self.n += 1
        self.save(f"{self.n:02d}-{name}", width=width)

    def save(self, filename, *, width=PHONE["width"]):
        self.page.screenshot(path=SCREENSHOTS / f"{filename}.png", full_page=True)
        overflow = self.page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"{filename}: page is {overflow}px wide at a {width}px viewport"


def _log_in(page, base, username):
    page.goto(f"{base}/akun/masuk/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(f"{base}/")


def _log_out(page, base):
    page.goto(f"{base}/menu/")
    page.get_by_role("button", name="Keluar").click()
    expect(page).to_have_url(re.compile(r"/akun/masuk/"))


def _portrait():
    buffer = io.BytesIO()
    Image.new("RGB", (240, 300), (180, 140, 110)).save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name="dewi.png")


def _community(lkmm, *, pengelola, ketua, today):
    """What an LKMM a few months in looks like: a board, a group, a member with a history and income
    follow-ups and a loan in arrears, and an applicant waiting in the queue. Made through the services."""
    warung, _ = BusinessType.objects.get_or_create(name="Warung")
    board_elect(
        lkmm=lkmm,
        actor=ketua,
        held_on=datetime.date(2025, 3, 1),
        place="Balai Desa Semenggu",
        attendees=58,
        method=ElectionMethod.MUSYAWARAH,
        seats=[{"name": "Pak Harto Wibowo", "role": BoardRole.KETUA}],
    )
    # Explicit NIKs: the factory's sequence could give the NIK the browser registers.
    referee = MemberFactory(
        lkmm=lkmm,
        number=1,
        nik="3509125505750001",
        full_name="Sri Wahyuni",
        phone="+6281311112222",
        business_type=warung,
    )
    neighbours = [
        MemberFactory(lkmm=lkmm, number=number, nik=nik, full_name=name, phone=phone)
        for number, nik, name, phone in [
            (2, "3509126106780002", "Endang Purwaningsih", "+6285233334444"),
            (3, "3509124409820003", "Yuliana Kusumawardhani", ""),
        ]
    ]
    dewi = services.member_apply(
        lkmm=lkmm,
        actor=pengelola,
        application={
            "referee_member": referee,
            "business_plan": "Menambah etalase dan stok minuman dingin untuk anak sekolah.",
            "requested_amount": 1_500_000,
        },
        nik="3509105208850007",
        full_name="Dewi Lestari",
        gender="P",
        birth_place="Jember",
        birth_date=datetime.date(1985, 8, 12),
        phone="+6281277778888",
        kk_number="3509100101090012",
        household_size=5,
        kecamatan="Sumbersari",
        desa="Semenggu",
        dusun="Krajan",
        rt="003",
        rw="001",
        address="Jl. Kenanga 7",
        dtsen_listed=True,
        dtsen_decile=3,
        dtsen_verified_on=datetime.date(2025, 11, 20),
        business_type=warung,
        business="Warung kopi dan jajanan di depan SD Semenggu 2",
        business_started=datetime.date(2018, 7, 1),
        business_location="Depan SD Semenggu 2",
        turnover_at_admission=2_000_000,
        net_income_at_admission=600_000,
        joined_on=today - datetime.timedelta(days=120),
        photo=_portrait(),
    )
    dewi = services.member_transition(member=dewi, to=MemberStatus.AKTIF, actor=ketua)
    # Blocking ends a group membership, so the block and unblock come before the group.
    services.member_transition(
        member=dewi, to=MemberStatus.DIBLOKIR, actor=ketua, reason="Tidak hadir 3 kali"
    )
    dewi = services.member_transition(
        member=dewi, to=MemberStatus.AKTIF, actor=ketua, reason="Sudah hadir lagi"
    )
    services.group_create(
        lkmm=lkmm,
        actor=pengelola,
        name="Mawar Semenggu",
        meeting_day=Weekday.KAMIS,
        meeting_place="Rumah Bu Sri",
        joint_liability=True,
        members=[referee, *neighbours, dewi],
        leader=referee,
    )
    for days_ago, turnover, net, note in [
        (60, 2_300_000, 680_000, "Setelah pinjaman pertama"),
        (5, 2_600_000, 750_000, "Tambah etalase"),
    ]:
        services.income_record(
            member=dewi,
            actor=pengelola,
            recorded_on=today - datetime.timedelta(days=days_ago),
            turnover=turnover,
            net_income=net,
            note=note,
        )
    make_active_loan(member=dewi, disbursed_on=today - datetime.timedelta(days=30), actor=ketua)
    services.member_apply(
        lkmm=lkmm,
        actor=pengelola,
        application={
            "referee_member": dewi,
            "business_plan": "Membeli gerobak untuk jualan bakso keliling.",
            "requested_amount": 800_000,
        },
        nik="3509104304900002",
        full_name="Rina Marlina",
        gender="P",
        birth_date=datetime.date(1990, 4, 3),
        desa="Semenggu",
        business_type=BusinessType.objects.get_or_create(name="Dagang keliling")[0],
        business="Bakso keliling",
        joined_on=today,
    )
    return referee, dewi


@pytest.mark.browser
# Data created by migrations (quality policies, business types) is restored after the flush.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
# The live server builds the WhiteNoise middleware, which warns when collectstatic has not run.
@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
def test_first_loop_on_a_phone(live_server, settings, tmp_path):
    if sync_playwright is None:
        _unavailable("playwright is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        _unavailable("Chromium not installed at /usr/bin/chromium: apt-get install chromium")

    # All ORM work happens outside the Playwright block: its sync API runs an event loop in this
    # thread, and Django refuses ORM calls while one runs (no DJANGO_ALLOW_ASYNC_UNSAFE needed).
    settings.MEDIA_ROOT = tmp_path
    today = timezone.localdate()
    lkmm = LkmmFactory(code="semenggu", name="LKMM Semenggu")
    ketua = StaffFactory(user__username="ketua.semenggu", lkmm=lkmm, ketua=True).user
    pengelola = StaffFactory(user__username="pengelola.semenggu", lkmm=lkmm).user
    LoanProductFactory(
        lkmm=lkmm,
        name="Mingguan 10x",
        interest_method="flat",
        frequency="weekly",
        rate_per_month="1.5",
        installment_count=10,
        rounding_unit=1,
        min_amount=100_000,
        max_amount=5_000_000,
    )
    referee, dewi = _community(lkmm, pengelola=pengelola, ketua=ketua, today=today)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    base = live_server.url
    nav = "navigation"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="id-ID", timezone_id="Asia/Jakarta")
            page = context.new_page()
            page.set_default_timeout(15_000)
            steps = Steps(page)

            # Pengelola logs in.
            page.goto(f"{base}/akun/masuk/")
            expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
            steps.shot("login")
            _log_in(page, base, "pengelola.semenggu")
            expect(page.get_by_role("heading", name="LKMM Semenggu")).to_be_visible()
            steps.shot("dashboard-pengelola")

            # Registers an applicant whom Sri Wahyuni vouches for.
            page.get_by_role(nav, name="Menu cepat").get_by_role("link", name="Anggota").click()
            page.get_by_role("link", name="Daftarkan pendaftar").click()
            expect(page.get_by_role("heading", name="Daftarkan pendaftar")).to_be_visible()
            page.fill("input[name=full_name]", "Siti Aminah")
            page.fill("input[name=nik]", "3509 1045 0180 0001")
            page.fill("input[name=kk_number]", "3509100101080003")
            page.check("input[name=gender][value=P]")
            page.fill("input[name=birth_place]", "Jember")
            page.fill("input[name=birth_date]", "1980-01-05")
            page.fill("input[name=phone]", "0812 3456 7890")
            page.fill("input[name=household_size]", "4")
            page.fill("input[name=address]", "Jl. Mawar 12")
            page.fill("input[name=rt]", "004")
            page.fill("input[name=rw]", "002")
            page.select_option("select[name=business_type]", label="Warung")
            page.fill("input[name=business]", "Warung kelontong")
            page.fill("input[name=turnover_at_admission]", "3.000.000")
            page.fill("input[name=net_income_at_admission]", "600.000")
            page.select_option("select[name=referee]", label=f"Sri Wahyuni ({referee.code})")
            page.fill("textarea[name=business_plan]", "Menambah stok beras dan minyak goreng.")
            page.fill("input[name=requested_amount]", "1.200.000")
            steps.shot("member-form")
            page.get_by_role("button", name="Simpan permohonan").click()
            expect(page.get_by_role("heading", name="Siti Aminah")).to_be_visible()
            expect(page.locator(".messages")).to_contain_text("terdaftar sebagai pendaftar")
            expect(page.locator("h1 .badge")).to_have_text("Pendaftar")
            expect(
                page.get_by_text("Menunggu keputusan. Yang dapat memutuskan:", exact=False).first
            ).to_be_visible()
            expect(page.get_by_role("link", name="Ajukan pinjaman")).to_have_count(0)
            steps.shot("applicant-pending")
            _log_out(page, base)

            # Ketua approves the application in the queue.
            _log_in(page, base, "ketua.semenggu")
            page.get_by_role(nav, name="Menu cepat").get_by_role("link", name="Anggota").click()
            page.get_by_role("link", name="Permohonan", exact=True).click()
            expect(page.get_by_role("heading", name="Permohonan anggota")).to_be_visible()
            card = page.locator("section.card").filter(has_text="Siti Aminah")
            expect(card).to_contain_text("Sri Wahyuni (anggota)")
            expect(card).to_contain_text("Rp 1.200.000")
            steps.shot("application-queue")
            card.get_by_label("Setujui").check()
            card.get_by_role("button", name="Simpan keputusan").click()
            expect(page.locator(".messages")).to_contain_text("Siti Aminah diterima sebagai anggota.")
            expect(page.locator("section.card").filter(has_text="Siti Aminah")).to_have_count(0)

            # Opens the new member from the list and applies for the first loan.
            page.get_by_role(nav, name="Menu cepat").get_by_role("link", name="Anggota").click()
            page.get_by_role("link", name="Siti Aminah").click()
            expect(page.locator("h1 .badge")).to_have_text("Aktif")
            expect(page.locator(".history").last).to_contain_text("Pendaftar → Aktif (ketua.semenggu)")
            page.get_by_role("link", name="Ajukan pinjaman").click()
            expect(page.get_by_role("heading", name="Ajukan pinjaman")).to_be_visible()
            page.select_option("select[name=product]", label="Mingguan 10x")
            page.fill("input[name=principal]", "1.200.000")
            page.fill("input[name=purpose]", "Tambah modal warung")
            steps.shot("loan-form")
            page.get_by_role("button", name="Catat pengajuan").click()
            expect(page.locator(".messages")).to_contain_text("dicatat")
            expect(page.locator("h1")).to_contain_text("Diajukan")

            # Approves it (the ketua decides), then disburses it today.
            steps.shot("loan-pending-ketua")
            page.get_by_role("button", name="Setujui pinjaman").click()
            expect(page.locator(".messages")).to_contain_text("disetujui")
            expect(page.locator("h1")).to_contain_text("Disetujui")
            disbursed_on = page.locator("input[name=disbursed_on]")
            expect(disbursed_on).to_have_value(today.isoformat())
            page.get_by_role("button", name="Cairkan Rp 1.200.000").click()
            expect(page.locator(".messages")).to_contain_text("dicairkan")

            # The schedule: 10 weekly installments of Rp 124.154.
            rows = page.locator("table.schedule tbody tr")
            expect(rows).to_have_count(10)
            for i in range(10):
                expect(rows.nth(i)).to_contain_text("Rp 124.154")
            steps.shot("loan-active")

            # Records the first installment and lands on the receipt.
            page.get_by_role("link", name="Catat pembayaran").click()
            expect(page.get_by_role("heading", name="Catat pembayaran")).to_be_visible()
            page.fill("input[name=amount]", "124.154")
            expect(page.locator("input[name=paid_on]")).to_have_value(today.isoformat())
            steps.shot("repayment-form")
            page.get_by_role("button", name="Simpan pembayaran").click()
            expect(page).to_have_url(re.compile(r"/pinjaman/kuitansi/\d+/$"))
            receipt = page.locator("article.receipt")
            expect(receipt).to_contain_text("KUITANSI")
            expect(receipt).to_contain_text("Siti Aminah")
            expect(receipt.locator("dd.big")).to_have_text("Rp 124.154")
            expect(receipt).to_contain_text("Rp 1.080.000")
            steps.shot("receipt")

            # Back on the loan: Rp 1.080.000 principal outstanding, first row paid.
            page.get_by_role("link", name="Kembali ke pinjaman").click()
            outstanding = page.locator(".stat").filter(has_text="Sisa pokok")
            expect(outstanding.locator(".value")).to_have_text("Rp 1.080.000")
            expect(rows.first).to_contain_text("lunas")
            loan_url = page.url
            steps.shot("loan-after-payment")
            page.get_by_role(nav, name="Menu cepat").get_by_role("link", name="Pinjaman").click()
            steps.shot("loan-list")

            # Desktop width: the same loan page and the dashboard.
            page.set_viewport_size(DESKTOP)
            page.goto(loan_url)
            steps.shot("desktop-loan", width=DESKTOP["width"])
            page.goto(f"{base}/")
            expect(page.get_by_role("heading", name="LKMM Semenggu")).to_be_visible()
            steps.shot("desktop-dashboard", width=DESKTOP["width"])

            # The member pages at both widths: the list, a member with a group, income follow-ups,
            # a history and a loan in arrears, and the queue with the applicant still waiting.
            member_pages = [
                ("member-list", f"{base}/anggota/", "Anggota"),
                ("member", f"{base}/anggota/{dewi.pk}/", "Dewi Lestari"),
                ("application-queue", f"{base}/anggota/permohonan/", "Permohonan anggota"),
            ]
            number = 20
            for name, address, heading in member_pages:
                for viewport in (PHONE, DESKTOP):
                    page.set_viewport_size(viewport)
                    page.goto(address)
                    expect(page.get_by_role("heading", name=heading, exact=False).first).to_be_visible()
                    steps.save(f"{number}-{name}-{viewport['width']}", width=viewport["width"])
                    number += 1
            page.goto(f"{base}/anggota/{dewi.pk}/")
            expect(page.locator("img.photo")).to_be_visible()
            expect(page.get_by_text("+Rp 150.000 (+25%)")).to_be_visible()
            expect(page.locator(".history li")).to_have_count(4)
            page.goto(f"{base}/anggota/")
            dewi_row = page.locator("tr").filter(has_text="Dewi Lestari")
            expect(dewi_row).to_contain_text("menunggak")
            expect(dewi_row).to_contain_text("Mawar Semenggu")
            context.close()
        finally:
            browser.close()

    # The books the browser wrote.
    member = Member.objects.get(lkmm=lkmm, nik="3509104501800001")
    assert (member.gender, member.status, member.phone) == ("P", MemberStatus.AKTIF, "+6281234567890")
    application = member.applications.get()
    assert (application.referee_member, application.decision) == (referee, "approved")
    assert application.decided_by.username == "ketua.semenggu"
    assert (application.submitted_by.username, application.requested_amount) == (
        "pengelola.semenggu",
        1_200_000,
    )
    loan = Loan.objects.with_standing(today).get(member=member)
    assert loan.status == LoanStatus.AKTIF
    assert loan.disbursed_on == today
    assert loan.principal == 1_200_000
    assert loan.installments.count() == 10
    assert Repayment.objects.count() == 1
    assert Repayment.objects.get().amount == 124_154
    assert loan.outstanding == 1_080_000
    assert list(loan.status_changes.values_list("from_status", "to_status", "by__username")) == [
        ("diajukan", "disetujui", "ketua.semenggu"),
        ("disetujui", "aktif", "ketua.semenggu"),
    ]
