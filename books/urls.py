from django.urls import path

from books import views

app_name = "books"
urlpatterns = [
    path("", views.upload, name="upload"),
    path("templat.xlsx", views.template, name="template"),
    path("<str:token>/", views.preview, name="preview"),
]
