from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from institutions import account_views

urlpatterns = [
    path("masuk/", account_views.LoginView.as_view(), name="login"),
    path("masuk/kode/", account_views.otp_verify, name="otp_verify"),
    path("keamanan/", account_views.account_security, name="account_security"),
    path("keamanan/kode-pemulihan/", account_views.recovery_codes_renew, name="recovery_codes_renew"),
    path("keamanan/matikan/", account_views.second_factor_remove, name="second_factor_remove"),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "kata-sandi/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done")),
        name="password_change",
    ),
    path(
        "kata-sandi/selesai/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
