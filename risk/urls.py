from django.urls import path

from risk import views

app_name = "risk"
urlpatterns = [
    path("cadangan/", views.reserve_home, name="reserve_home"),
    path("cadangan/<slug:code>/", views.reserve, name="reserve"),
    path("hapus-buku/<int:pk>/", views.write_off, name="write_off"),
    path("pemulihan/<int:pk>/", views.recovery, name="recovery"),
    path("tutup-buku/", views.closes, name="closes"),
    path("tutup-buku/<int:pk>/buka/", views.reopen, name="reopen"),
]
