from django.urls import path

from loans import collection_views, views

app_name = "loans"
urlpatterns = [
    path("", views.loan_list, name="list"),
    path("produk/", views.product_list, name="products"),
    path("produk/baru/", views.product_create, name="product_create"),
    path("ajukan/<int:member_pk>/", views.loan_create, name="create"),
    path("<int:pk>/", views.loan_detail, name="detail"),
    path("<int:pk>/ubah/", views.loan_edit, name="edit"),
    path("<int:pk>/setujui/", views.loan_approve_view, name="approve"),
    path("<int:pk>/tolak/", views.loan_reject_view, name="reject"),
    path("<int:pk>/cairkan/", views.loan_disburse_view, name="disburse"),
    path("<int:pk>/bebaskan-denda/", views.late_fees_waive_view, name="waive"),
    path("<int:pk>/restrukturisasi/", views.loan_restructure_view, name="restructure"),
    path("<int:pk>/batalkan/", views.loan_cancel_view, name="cancel"),
    path("<int:loan_pk>/bayar/", views.repayment_create, name="repay"),
    path("kuitansi/<int:pk>/", views.repayment_receipt, name="receipt"),
    path("tagihan/", collection_views.collection_sheet, name="collection"),
    path("tagihan/kelompok/<int:group_pk>/", collection_views.collection_group, name="collection_group"),
    path("kuitansi/<int:pk>/batalkan/", views.repayment_reverse_view, name="reverse"),
]
