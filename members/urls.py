from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("baru/", views.member_create, name="create"),
    path("<int:pk>/", views.member_detail, name="detail"),
]
