from django.urls import path

from institutions import dinas_views

app_name = "dinas"
urlpatterns = [
    path("pengaturan/", dinas_views.dinas_settings, name="settings"),
]
