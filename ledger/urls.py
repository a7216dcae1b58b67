from django.urls import path

from ledger import views

app_name = "ledger"
urlpatterns = [
    path("<slug:code>/", views.trial_balance, name="trial_balance"),
    path("<slug:code>/kas/", views.cash_book, name="cash_book"),
    path("<slug:code>/bukti/baru/", views.voucher_create, name="voucher_create"),
    path("<slug:code>/jurnal/<int:number>/", views.entry_detail, name="entry_detail"),
]
