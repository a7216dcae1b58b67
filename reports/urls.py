from django.urls import path

from reports import report_views, views
from savings import report_views as savings_reports

app_name = "reports"
urlpatterns = [
    path("", views.home, name="home"),
    path("menu/", views.menu, name="menu"),
    path("lkmm/<slug:code>/", views.lkmm_dashboard, name="lkmm"),
    path("laporan/tunggakan/", report_views.my_report, {"report": "reports:arrears"}, name="my_arrears"),
    path("laporan/kolektibilitas/", report_views.my_report, {"report": "reports:quality"}, name="my_quality"),
    path(
        "laporan/simpanan/", report_views.my_report, {"report": "reports:savings_balances"}, name="my_savings"
    ),
    path("laporan/<slug:code>/simpanan/", savings_reports.balances, name="savings_balances"),
    path("laporan/<slug:code>/mutasi-simpanan/", savings_reports.movements, name="savings_movements"),
    path("laporan/<slug:code>/tunggakan/", report_views.arrears, name="arrears"),
    path("laporan/<slug:code>/kolektibilitas/", report_views.quality, name="quality"),
]
