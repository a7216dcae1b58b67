"""Every page at 360 x 740 as each role (issue 12): the document and its tables fit the screen, the header
and navigation take at most 140 px, and buttons, controls and links outside running text in the main
content are at least 44 px tall.

One object of each kind (a member, an applicant, a loan, a receipt, a group, a journal entry, a request)
is made through the services (tests.test_browser's community); each role's session is made by the test
helpers (Dinas with its second factor) and handed to Chromium as a cookie. Every named URL pattern that
answers GET is visited, or listed in NOT_VISITED with the reason.

Run: .venv/bin/pytest -q tests/test_phone_layout.py   (marked browser)
"""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import get_resolver, resolve
from django.utils import timezone

from coaching.services import coaching_record_create, follow_up_create
from institutions.models import DecisionRequest, RequestKind
from ledger.models import JournalEntry
from loans.models import Loan, LoanProduct, LoanStatus
from loans.services import repayment_record
from members.models import Group, Member, MemberStatus
from tests.factories import LkmmFactory, LoanProductFactory, StaffFactory, login, make_loan
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, _community, _unavailable

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

pytestmark = pytest.mark.browser

MAX_CHROME = 140  # px of 740 for the header and the navigation together
MIN_TARGET = 44  # px

# URL patterns not visited, and why.
NOT_VISITED = {
    "login": "the login page has no navigation; tests/test_browser.py drives it",
    "otp_verify": "reached only half logged in",
    "logout": "POST only",
    "set_language": "POST only",
    "password_change_done": "a confirmation after a POST",
    "recovery_codes_renew": "POST only",
    "second_factor_remove": "POST only",
    "members:photo": "an image, not a page",
    "members:decide": "POST only",
    "members:status": "POST only",
    "members:group_add": "POST only",
    "members:group_remove": "POST only",
    "members:reapply": "only for a rejected applicant",
    "loans:approve": "POST only",
    "loans:reject": "POST only",
    "loans:disburse": "POST only",
    "loans:waive": "POST only",
    "loans:cancel": "POST only",
    "loans:reverse": "POST only",
    "risk:recovery": "only for a written-off loan",
    "risk:reopen": "only for a closed month",
    "reports:my_arrears": "redirects to reports:arrears",
    "reports:my_quality": "redirects to reports:quality",
    "reports:my_savings": "redirects to reports:savings_balances",
    "risk:reserve_home": "redirects to risk:reserve",
    "savings:return_all": "only for a member who leaves",
    "books:template": "an XLSX download, not a page",
    "shu:close": "POST only (the year-end close's request or decision)",
    "shu:distribute": "only for a year closed with a surplus",
    "shu:reverse": "only for a year whose SHU was shared",
    "shu:collect": "only for a share held for a member who left",
    "shu:sosial_reverse": "only for a recorded dana sosial spending",
}

# The measuring script, kept in a file of its own to stay readable.
MEASURE = (
    (Path(__file__).with_name("phone_layout.js"))
    .read_text()
    .replace("MAX_CHROME", str(MAX_CHROME))
    .replace("MIN_TARGET", str(MIN_TARGET))
)


def _named_get_patterns():
    names = set()

    def walk(resolver, namespace=""):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                if pattern.namespace != "admin":
                    walk(pattern, f"{pattern.namespace}:" if pattern.namespace else namespace)
            elif pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver())
    return names


def _world(today):
    lkmm = LkmmFactory(code="semenggu", name="LKMM Semenggu")
    ketua = StaffFactory(user__username="ketua.semenggu", lkmm=lkmm, ketua=True)
    pengelola = StaffFactory(user__username="pengelola.semenggu", lkmm=lkmm)
    dinas = StaffFactory(user__username="dinas", dinas=True)
    LoanProductFactory(lkmm=lkmm, name="Mingguan 10x")
    _community(lkmm, pengelola=pengelola.user, ketua=ketua.user, today=today)
    loan = Loan.objects.filter(lkmm=lkmm, status=LoanStatus.AKTIF).first()
    repayment = repayment_record(loan=loan, amount=10_000, paid_on=today, actor=pengelola.user)
    applicant = Member.objects.filter(lkmm=lkmm, status=MemberStatus.PENDAFTAR).first()
    applied = Loan.objects.filter(lkmm=lkmm, status=LoanStatus.DIAJUKAN).first() or make_loan(
        member=Member.objects.filter(lkmm=lkmm, status=MemberStatus.AKTIF).order_by("-pk").first(),
        product=LoanProduct.objects.filter(lkmm=lkmm).first(),
        applied_on=today,
        actor=pengelola.user,
    )
    member = loan.member
    group = Group.objects.filter(lkmm=lkmm).first()
    entry = JournalEntry.objects.filter(lkmm=lkmm).order_by("number").first()
    request = DecisionRequest.objects.create(
        lkmm=lkmm,
        kind=RequestKind.WAIVER,
        target=f"loan:{loan.pk}",
        summary=f"Bebaskan denda {loan.code}",
        payload={"loan": loan.pk, "on": today.isoformat(), "reason": "Sakit"},
        requested_by=pengelola.user,
    )
    coaching = coaching_record_create(
        actor=dinas.user, kind="kunjungan", held_on=today, lkmms=[lkmm], attendees="Dinas", topic="Kas harian"
    )
    follow_up = follow_up_create(
        actor=dinas.user, record=coaching, lkmm=lkmm, action="Tutup kas", owner=ketua.user, due_on=today
    )
    from savings.services import savings_deposit

    saved = savings_deposit(member=member, kind="sukarela", amount=20_000, on=today, actor=ketua.user)
    code = lkmm.code
    lkmm_pages = [
        "/",
        "/menu/",
        f"/lkmm/{code}/",
        f"/laporan/{code}/tunggakan/",
        f"/laporan/{code}/kolektibilitas/",
        f"/laporan/{code}/simpanan/",
        f"/laporan/{code}/mutasi-simpanan/",
        "/akun/keamanan/",
        "/akun/kata-sandi/",
        "/anggota/",
        "/anggota/permohonan/",
        "/anggota/ganda/",
        f"/anggota/{member.pk}/",
        f"/anggota/{applicant.pk}/" if applicant else None,
        "/anggota/kelompok/",
        f"/anggota/kelompok/{group.pk}/" if group else None,
        "/pinjaman/",
        "/pinjaman/produk/",
        f"/pinjaman/{loan.pk}/",
        f"/pinjaman/kuitansi/{repayment.pk}/?format=a4",
        f"/pinjaman/kuitansi/{repayment.pk}/?format=58",
        "/pinjaman/tagihan/",
        f"/pinjaman/tagihan/kelompok/{group.pk}/" if group else None,
        f"/buku/{code}/",
        f"/buku/{code}/kas/",
        f"/buku/{code}/jurnal/{entry.number}/" if entry else None,
        f"/buku/{code}/laporan-keuangan/",
        f"/buku/{code}/paket-triwulan/",
        f"/buku/{code}/modal/",
        "/buku/laporan-keuangan/",
        "/pengurus/",
        f"/pengurus/{code}/",
        f"/risiko/cadangan/{code}/",
        "/risiko/tutup-buku/",
        "/keputusan/",
        f"/keputusan/{request.pk}/",
        f"/tren/lkmm/{code}/",
        f"/dampak/lkmm/{code}/",
        "/pembinaan/",
        "/pembinaan/tindak-lanjut/",
        f"/pembinaan/{coaching.pk}/",
        "/simpanan/produk/",
        f"/simpanan/anggota/{member.pk}/",
        f"/simpanan/kuitansi/{saved.pk}/?format=a4",
        f"/simpanan/kuitansi/{saved.pk}/?format=58",
        "/shu/",
        f"/shu/{code}/{today.year}/",
        f"/shu/{code}/{today.year}/laporan/",
        f"/shu/{code}/{today.year}/anggota/{member.pk}/",
        f"/shu/{code}/dana-sosial/",
    ]
    recording = [
        "/anggota/baru/",
        f"/anggota/{member.pk}/pendapatan/",
        "/anggota/kelompok/baru/",
        f"/anggota/kelompok/{group.pk}/ubah/" if group else None,
        f"/pinjaman/ajukan/{member.pk}/",
        f"/pinjaman/{loan.pk}/bayar/",
        f"/pinjaman/{loan.pk}/restrukturisasi/",
        f"/buku/{code}/bukti/baru/",
        f"/risiko/hapus-buku/{loan.pk}/",
        f"/anggota/{member.pk}/ubah/",
        *([f"/pinjaman/{applied.pk}/ubah/"] if applied else []),
        f"/simpanan/anggota/{member.pk}/setor/",
    ]
    # A book waiting for confirmation (the template's example rows), so the dry-run page is measured.
    from books import template_book
    from books import views as book_views

    token = "0" * 32
    waiting = book_views._folder() / f"{lkmm.pk}-{ketua.user.pk}-{token}.xlsx"
    waiting.write_bytes(template_book.workbook_bytes())
    deciding = [
        f"/pembinaan/tindak-lanjut/{follow_up.pk}/selesai/",
        "/pinjaman/produk/baru/",
        f"/pengurus/{code}/pilih/",
        "/jejak-audit/",
        f"/simpanan/rekening/{saved.account_id}/tarik/",
        f"/simpanan/kuitansi/{saved.pk}/batalkan/",
        "/impor/",
        f"/impor/{token}/",
        f"/buku/{code}/modal/baru/",
        f"/shu/{code}/aturan/",
    ]
    dinas_pages = [
        "/",
        "/menu/",
        f"/lkmm/{code}/",
        f"/laporan/{code}/tunggakan/",
        f"/laporan/{code}/kolektibilitas/",
        "/anggota/",
        f"/anggota/{member.pk}/",
        "/pinjaman/",
        f"/pinjaman/{loan.pk}/",
        f"/pinjaman/kuitansi/{repayment.pk}/",
        f"/pinjaman/tagihan/?lkmm={code}",
        f"/buku/{code}/",
        f"/buku/{code}/laporan-keuangan/",
        f"/buku/{code}/paket-triwulan/",
        "/buku/laporan-keuangan/",
        "/buku/paket-triwulan/",
        "/pengurus/",
        f"/risiko/cadangan/{code}/",
        "/risiko/tutup-buku/",
        "/akun/keamanan/",
        "/anggota/ganda/",  # people in several LKMMs: the Dinas's page
        "/tren/",
        f"/tren/kecamatan/{lkmm.kecamatan}/",
        f"/tren/lkmm/{code}/",
        "/dampak/",
        f"/dampak/lkmm/{code}/",
        "/pembinaan/",
        "/pembinaan/baru/",
        "/pembinaan/tindak-lanjut/",
        f"/pembinaan/{coaching.pk}/",
        f"/pembinaan/{coaching.pk}/tindak-lanjut/",
        f"/simpanan/anggota/{member.pk}/",
        "/?status=ditandai&urut=npl",  # the Dinas home filtered and sorted
        "/dinas/pengaturan/",  # the Dinas's settings
        "/shu/",  # the Dinas chooses the LKMM
        f"/shu/{code}/{today.year}/",
    ]
    roles = {
        "pengelola": (pengelola, [p for p in lkmm_pages + recording if p]),
        "ketua": (ketua, [p for p in lkmm_pages + recording + deciding if p]),
        "dinas": (dinas, dinas_pages),
    }
    return roles


def _session(staff):
    client = Client()
    login(client, staff)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_page_fits_a_phone_for_every_role(live_server, settings, tmp_path):
    if sync_playwright is None:
        _unavailable("playwright is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        _unavailable("Chromium not installed at /usr/bin/chromium: apt-get install chromium")
    settings.MEDIA_ROOT = tmp_path
    today = timezone.localdate()
    roles = _world(today)
    visited = {resolve(path.split("?")[0]).view_name for _, paths in roles.values() for path in paths}
    missing = _named_get_patterns() - visited - set(NOT_VISITED)
    assert not missing, f"URL patterns neither visited nor listed in NOT_VISITED: {sorted(missing)}"
    cookies = {role: _session(staff) for role, (staff, _) in roles.items()}

    failures = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for role, (_staff, paths) in roles.items():
                context = browser.new_context(viewport=PHONE, locale="id-ID", timezone_id="Asia/Jakarta")
                context.add_cookies(
                    [
                        {
                            "name": django_settings.SESSION_COOKIE_NAME,
                            "value": cookies[role],
                            "url": live_server.url,
                        }
                    ]
                )
                page = context.new_page()
                for path in paths:
                    response = page.goto(live_server.url + path, wait_until="load")
                    if response.status >= 500:
                        failures.append(f"{role} {path}: HTTP {response.status}")
                        continue
                    if "/akun/masuk/" in page.url:
                        failures.append(f"{role} {path}: sent to the login page")
                        continue
                    problems = page.evaluate(MEASURE)
                    failures.extend(f"{role} {path}: {problem}" for problem in problems)
                context.close()
        finally:
            browser.close()
    assert not failures, "\n".join(failures)
