from django.urls import path

from shu import views

app_name = "shu"
urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:code>/<int:year>/", views.year_page, name="year"),
    path("<slug:code>/<int:year>/laporan/", views.report, name="report"),
    path("<slug:code>/<int:year>/anggota/<int:member_pk>/", views.slip, name="slip"),
    path("<slug:code>/<int:year>/bagikan/", views.distribute, name="distribute"),
    path("<slug:code>/<int:year>/batalkan-pembagian/", views.distribution_reverse, name="reverse"),
    path("<slug:code>/aturan/", views.rules, name="rules"),
    path("<slug:code>/tutup-tahun/", views.close, name="close"),
    path("<slug:code>/dana-sosial/", views.sosial, name="sosial"),
    path("dana-sosial/<int:pk>/batalkan/", views.sosial_reverse, name="sosial_reverse"),
    path("bagian/<int:pk>/ambil/", views.collect, name="collect"),
]
