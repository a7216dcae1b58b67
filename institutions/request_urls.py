from django.urls import path

from institutions import views

app_name = "requests"
urlpatterns = [
    path("", views.request_list, name="list"),
    path("<int:pk>/", views.request_detail, name="detail"),
]
