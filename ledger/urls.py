from django.urls import path

from ledger import views

app_name = "ledger"
urlpatterns = [path("<slug:code>/", views.trial_balance, name="trial_balance")]
