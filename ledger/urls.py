from django.urls import path

from ledger import statement_views, views

app_name = "ledger"
urlpatterns = [
    # Consolidated (every LKMM the user may see, or ?kecamatan=...): before <code>/ so they are not read as
    # an LKMM's code.
    path("laporan-keuangan/", statement_views.statements, name="statements_all"),
    path("paket-triwulan/", statement_views.package, name="package_all"),
    path("<slug:code>/", views.trial_balance, name="trial_balance"),
    path("<slug:code>/kas/", views.cash_book, name="cash_book"),
    path("<slug:code>/bukti/baru/", views.voucher_create, name="voucher_create"),
    path("<slug:code>/jurnal/<int:number>/", views.entry_detail, name="entry_detail"),
    path("<slug:code>/laporan-keuangan/", statement_views.statements, name="statements"),
    path("<slug:code>/paket-triwulan/", statement_views.package, name="package"),
    path("<slug:code>/modal/", views.capital_list, name="capital_list"),
    path("<slug:code>/modal/baru/", views.capital_create, name="capital_create"),
]
