from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("reports.urls")),
    path("", include("reports.oversight_urls")),
    path("akun/", include("institutions.urls")),
    path("anggota/", include("members.urls")),
    path("pinjaman/", include("loans.urls")),
    path("buku/", include("ledger.urls")),
    path("pengurus/", include("institutions.board_urls")),
    path("risiko/", include("risk.urls")),
    path("pembinaan/", include("coaching.urls")),
    path("keputusan/", include("institutions.request_urls")),
    path("jejak-audit/", include("audit.urls")),
    path("simpanan/", include("savings.urls")),
    path("shu/", include("shu.urls")),
    path("impor/", include("books.urls")),
    path("dinas/", include("institutions.dinas_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
