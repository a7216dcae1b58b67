from django.urls import path

from loans import views

app_name = "loans"
urlpatterns = [
    path("", views.loan_list, name="list"),
    path("produk/", views.product_list, name="products"),
    path("produk/baru/", views.product_create, name="product_create"),
    path("ajukan/<int:member_pk>/", views.loan_create, name="create"),
    path("<int:pk>/", views.loan_detail, name="detail"),
    path("<int:pk>/cairkan/", views.loan_disburse_view, name="disburse"),
    path("<int:pk>/batalkan/", views.loan_cancel_view, name="cancel"),
    path("<int:loan_pk>/bayar/", views.repayment_create, name="repay"),
    path("kuitansi/<int:pk>/", views.repayment_receipt, name="receipt"),
]
