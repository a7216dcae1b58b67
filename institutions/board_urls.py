from django.urls import path

from institutions import views

app_name = "board"
urlpatterns = [
    path("", views.board_home, name="home"),
    path("<slug:code>/", views.board_detail, name="detail"),
    path("<slug:code>/pilih/", views.board_elect, name="elect"),
]
