from django.urls import path

from coaching import views

app_name = "coaching"
urlpatterns = [
    path("", views.record_list, name="list"),
    path("baru/", views.record_create, name="create"),
    path("<int:pk>/", views.record_detail, name="detail"),
    path("<int:pk>/tindak-lanjut/", views.follow_up_add, name="follow_up_add"),
    path("tindak-lanjut/", views.follow_up_list, name="follow_ups"),
    path("tindak-lanjut/<int:pk>/selesai/", views.follow_up_done, name="follow_up_done"),
]
