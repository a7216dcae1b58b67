"""In the field (issue 12): the phone navigation and its waiting count, the form error summary, the loan
application's terms and schedule preview, receipts on A4 and 58 mm, SALINAN, WhatsApp with consent."""

import datetime
import re
import uuid
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from institutions.models import DecisionRequest, RequestKind
from institutions.navigation import waiting_decisions
from loans.models import Loan, Repayment
from loans.services import repayment_record
from members.models import Group
from tests.factories import (
    LoanProductFactory,
    MemberFactory,
    make_active_loan,
    make_approved_loan,
    make_loan,
)

pytestmark = pytest.mark.django_db


def bottom_bar(html):
    return re.search(r'<nav class="bottombar".*?</nav>', html, re.S).group(0)


def labels_of(bar):
    links = re.findall(r"<a [^>]*>(.*?)</a>", bar, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", a).split()) for a in links]


def current_of(bar):
    return [
        re.sub(r"<[^>]+>", "", a).strip()
        for a in re.findall(r'<a [^>]*aria-current="page"[^>]*>(.*?)</a>', bar)
    ]


# --- navigation ------------------------------------------------------------------------------------


def test_waiting_decisions_counts_the_four_kinds_in_one_query(lkmm, other_lkmm, ketua):
    MemberFactory(lkmm=lkmm, status="pendaftar")
    member = MemberFactory(lkmm=lkmm)
    product = LoanProductFactory(lkmm=lkmm)
    make_loan(member=member, product=product)  # diajukan
    make_approved_loan(member=MemberFactory(lkmm=lkmm), product=product)  # disetujui, not disbursed
    make_active_loan(member=MemberFactory(lkmm=lkmm), product=product)  # active: not waiting
    DecisionRequest.objects.create(
        lkmm=lkmm,
        kind=RequestKind.RESERVE,
        target=f"lkmm:{lkmm.pk}",
        summary="x",
        payload={},
        requested_by=ketua.user,
    )
    MemberFactory(lkmm=other_lkmm, status="pendaftar")  # another LKMM's: not counted
    with CaptureQueriesContext(connection) as queries:
        assert waiting_decisions(lkmm.pk) == 4
    assert len(queries) == 1


def test_ketua_bar_shows_keputusan_with_the_count_and_one_highlighted_item(ketua_client, lkmm):
    MemberFactory(lkmm=lkmm, status="pendaftar")
    MemberFactory(lkmm=lkmm, status="pendaftar")
    bar = bottom_bar(ketua_client.get("/").content.decode())
    assert labels_of(bar) == ["Beranda", "Keputusan 2", "Anggota", "Pinjaman", "Menu"]
    assert 'href="/keputusan/"' in bar
    assert current_of(bar) == ["Beranda"]


def test_pengelola_bar_has_the_collection_sheet_and_no_count(pengelola_client):
    bar = bottom_bar(pengelola_client.get(reverse("members:list")).content.decode())
    assert labels_of(bar) == ["Beranda", "Tagihan", "Anggota", "Pinjaman", "Menu"]
    assert current_of(bar) == ["Anggota"]
    bar = bottom_bar(pengelola_client.get(reverse("loans:products")).content.decode())
    assert current_of(bar) == ["Menu"]  # a page the bar does not name: "Menu" stands for it


def test_dinas_bar_and_the_menu_page(dinas_client):
    html = dinas_client.get("/").content.decode()
    assert labels_of(bottom_bar(html)) == ["Semua LKMM", "Laporan", "Menu"]
    assert current_of(bottom_bar(html)) == ["Semua LKMM"]
    menu = dinas_client.get(reverse("reports:menu"))
    assert menu.status_code == 200
    body = menu.content.decode()
    assert current_of(bottom_bar(body)) == ["Menu"]
    assert reverse("account_security") in body and reverse("logout") in body


def test_the_count_costs_one_query_and_only_for_the_ketua(client, pengelola, ketua):
    from tests.factories import login

    def queries_of(staff):
        login(client, staff)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("reports:menu")).status_code == 200
        client.logout()
        return [q["sql"] for q in queries]

    as_pengelola, as_ketua = queries_of(pengelola), queries_of(ketua)
    assert len(as_ketua) == len(as_pengelola) + 1
    counting = [q for q in as_ketua if "members_member" in q and "loans_loan" in q]
    assert len(counting) == 1 and "institutions_decisionrequest" in counting[0]


def test_menu_page_needs_a_login(client):
    response = client.get(reverse("reports:menu"))
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]


# --- forms -----------------------------------------------------------------------------------------


def test_member_form_errors_are_summed_up_at_the_top_with_links(pengelola_client):
    response = pengelola_client.post(reverse("members:create"), {"birth_date": "2030-01-01"})
    html = response.content.decode()
    assert response.status_code == 200
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert html.index("error-summary") < html.index("<fieldset")
    assert 'href="#id_full_name"' in summary and 'href="#id_nik"' in summary
    assert 'href="#id_birth_date"' in summary
    assert 'id="id_full_name"' in html  # the link lands on the field
    assert "<fieldset>" in html and "WhatsApp" in html  # sections, and the consent is on the form


def test_a_valid_form_has_no_summary(pengelola_client):
    assert "error-summary" not in pengelola_client.get(reverse("members:create")).content.decode()


def test_loan_form_shows_the_chosen_products_terms(pengelola_client, lkmm):
    member = MemberFactory(lkmm=lkmm)
    LoanProductFactory(lkmm=lkmm, name="Mingguan Pasar", min_amount=200_000, max_amount=3_000_000)
    html = pengelola_client.get(reverse("loans:create", args=[member.pk])).content.decode()
    terms = re.search(r'<section class="terms".*?</section>', html, re.S).group(0)
    assert "Mingguan Pasar" in terms and "Rp 200.000" in terms and "Rp 3.000.000" in terms
    assert "10 × mingguan" in terms and "efektif" in html.lower()


def test_lihat_jadwal_previews_the_schedule_without_saving(pengelola_client, lkmm):
    member = MemberFactory(lkmm=lkmm)
    product = LoanProductFactory(lkmm=lkmm, admin_fee_percent=1)
    data = {
        "product": product.pk,
        "principal": "1.000.000",
        "purpose": "Modal warung",
        "applied_on": timezone.localdate().isoformat(),
        "token": str(uuid.uuid4()),
    }
    url = reverse("loans:create", args=[member.pk])
    response = pengelola_client.post(url, {**data, "preview": "1"})
    assert response.status_code == 200
    assert not Loan.objects.exists()
    preview = response.context["preview"]
    assert len(preview["lines"]) == 10
    assert sum(line.principal for line in preview["lines"]) == 1_000_000
    # flat 1.5% a month is 1.5 x 12 / 52 = 0.346% a week: 10 weeks of Rp 3.462 interest
    assert preview["total"] == 1_034_620 == sum(line.total for line in preview["lines"])
    assert (preview["admin_fee"], preview["received"]) == (10_000, 990_000)
    html = response.content.decode()
    assert "Perkiraan jadwal angsuran" in html and "Rp 1.034.620" in html
    # The same form saved afterwards records the application once.
    assert pengelola_client.post(url, data).status_code == 302
    assert Loan.objects.get().principal == 1_000_000


def test_preview_shows_the_products_limit_next_to_the_amount(pengelola_client, lkmm):
    member = MemberFactory(lkmm=lkmm)
    product = LoanProductFactory(lkmm=lkmm, max_amount=2_000_000)
    data = {
        "product": product.pk,
        "principal": "9.000.000",
        "purpose": "Modal",
        "applied_on": timezone.localdate().isoformat(),
        "token": str(uuid.uuid4()),
        "preview": "1",
    }
    response = pengelola_client.post(reverse("loans:create", args=[member.pk]), data)
    assert response.status_code == 200 and response.context.get("preview") is None
    assert response.context["form"].errors["principal"]
    assert 'href="#id_principal"' in response.content.decode()
    assert not Loan.objects.exists()


# --- receipts --------------------------------------------------------------------------------------


@pytest.fixture
def active(lkmm):
    today = timezone.localdate()
    member = MemberFactory(lkmm=lkmm, phone="+6281234567890", whatsapp_consent=True, full_name="Siti Aminah")
    return make_active_loan(
        member=member,
        product=LoanProductFactory(lkmm=lkmm),
        disbursed_on=today - datetime.timedelta(days=7),
        first_due=today,
    )


def record(client, loan, amount="124.154"):
    data = {"amount": amount, "paid_on": timezone.localdate().isoformat(), "token": str(uuid.uuid4())}
    return client.post(reverse("loans:repay", args=[loan.pk]), data)


def test_the_first_view_after_recording_is_the_original_then_salinan(pengelola_client, active, client, ketua):
    response = record(pengelola_client, active)
    assert response.status_code == 302
    first = pengelola_client.get(response["Location"])
    assert first.context["original"] is True and "SALINAN" not in first.content.decode()
    again = pengelola_client.get(response["Location"])
    assert again.context["original"] is False and "SALINAN" in again.content.decode()
    from tests.factories import login

    login(client, ketua)  # another person, another session: a copy
    assert "SALINAN" in client.get(response["Location"]).content.decode()


def test_receipt_on_58_mm_and_the_format_is_remembered(pengelola_client, active):
    repayment = repayment_record(loan=active, amount=124_154, paid_on=timezone.localdate(), actor=None)
    url = reverse("loans:receipt", args=[repayment.pk])
    narrow = pengelola_client.get(url, {"format": "58"})
    html = narrow.content.decode()
    assert narrow.templates[0].name == "loans/receipt_58.html"
    assert "receipt-58.css" in html and 'class="receipt-58"' in html
    assert "Seratus dua puluh empat ribu seratus lima puluh empat rupiah" in html
    # The user's choice of paper stays: the next receipt opens on 58 mm too.
    assert pengelola_client.get(url).templates[0].name == "loans/receipt_58.html"
    assert pengelola_client.get(url, {"format": "a4"}).templates[0].name == "loans/receipt.html"
    assert pengelola_client.get(url, {"format": "a5"}).status_code == 404


def test_whatsapp_link_carries_the_receipt_text(pengelola_client, active):
    repayment = repayment_record(loan=active, amount=124_154, paid_on=timezone.localdate(), actor=None)
    html = pengelola_client.get(reverse("loans:receipt", args=[repayment.pk])).content.decode()
    link = next(part for part in html.split('"') if part.startswith("https://wa.me/6281234567890?text="))
    text = unquote(link.split("text=", 1)[1])
    assert repayment.receipt_code in text and timezone.localdate().strftime("%d/%m/%Y") in text
    assert "Jumlah: Rp 124.154" in text
    assert "seratus dua puluh empat ribu seratus lima puluh empat rupiah" in text
    assert "Sisa pokok: Rp 1.080.000" in text  # 1.200.000 less the first installment's 120.000
    second_due = (timezone.localdate() + datetime.timedelta(days=7)).strftime("%d/%m/%Y")
    assert f"Angsuran berikutnya: Rp 124.154, jatuh tempo {second_due}" in text
    assert "Kirim lewat WhatsApp" in html


def test_no_whatsapp_without_consent(pengelola_client, active):
    active.member.whatsapp_consent = False
    active.member.save()
    repayment = repayment_record(loan=active, amount=124_154, paid_on=timezone.localdate(), actor=None)
    html = pengelola_client.get(reverse("loans:receipt", args=[repayment.pk])).content.decode()
    assert "wa.me" not in html
    assert "belum setuju dihubungi lewat WhatsApp" in html


def test_collection_summary_goes_to_the_consenting_group_leader(pengelola_client, lkmm, active):
    leader = active.member
    group = Group.objects.create(lkmm=lkmm, name="Mawar", leader=leader, meeting_day=0, meeting_place="Balai")
    repayment = repayment_record(loan=active, amount=124_154, paid_on=timezone.localdate(), actor=None)
    url = reverse("loans:collection_group", args=[group.pk])
    html = pengelola_client.get(url, {"kuitansi": str(repayment.pk)}).content.decode()
    link = next(part for part in html.split('"') if part.startswith("https://wa.me/6281234567890?text="))
    text = unquote(link.split("text=", 1)[1])
    assert "Mawar" in text and f"{repayment.receipt_code} Siti Aminah: Rp 124.154" in text
    assert "Jumlah 1 kuitansi: Rp 124.154" in text
    leader.whatsapp_consent = False
    leader.save()
    assert "wa.me" not in pengelola_client.get(url, {"kuitansi": str(repayment.pk)}).content.decode()


def test_consent_is_saved_from_the_member_form_default_off(lkmm):
    from members.models import Member

    assert Member._meta.get_field("whatsapp_consent").default is False
    assert MemberFactory(lkmm=lkmm).whatsapp_consent is False


def test_reversed_receipt_offers_no_whatsapp(pengelola_client, active):
    repayment = repayment_record(loan=active, amount=124_154, paid_on=timezone.localdate(), actor=None)
    Repayment.objects.filter(pk=repayment.pk).update(reversed_on=timezone.localdate())
    html = pengelola_client.get(reverse("loans:receipt", args=[repayment.pk])).content.decode()
    assert "wa.me" not in html


def test_member_page_says_whether_whatsapp_may_be_used(pengelola_client, lkmm):
    yes = MemberFactory(lkmm=lkmm, phone="+6281234567890", whatsapp_consent=True)
    no = MemberFactory(lkmm=lkmm, phone="+6281234567891")
    assert (
        "bersedia dihubungi lewat WhatsApp"
        in pengelola_client.get(reverse("members:detail", args=[yes.pk])).content.decode()
    )
    assert (
        "belum setuju dihubungi lewat WhatsApp"
        in pengelola_client.get(reverse("members:detail", args=[no.pk])).content.decode()
    )
