from django.urls import path

from savings import views

app_name = "savings"
urlpatterns = [
    path("produk/", views.products, name="products"),
    path("anggota/<int:member_pk>/", views.passbook, name="passbook"),
    path("anggota/<int:member_pk>/setor/", views.deposit, name="deposit"),
    path("anggota/<int:member_pk>/kembalikan/", views.return_all, name="return_all"),
    path("rekening/<int:pk>/tarik/", views.withdraw, name="withdraw"),
    path("kuitansi/<int:pk>/", views.receipt, name="receipt"),
    path("kuitansi/<int:pk>/batalkan/", views.reverse, name="reverse"),
]
