"""The Dinas's oversight pages beside the reports: trends (tren) and impact (dampak)."""

from django.urls import path

from reports import impact_views, trend_views

app_name = "oversight"
urlpatterns = [
    path("tren/", trend_views.city, name="trend"),
    path("tren/kecamatan/<path:name>/", trend_views.kecamatan_trend, name="trend_kecamatan"),
    path("tren/lkmm/<slug:code>/", trend_views.lkmm_trend, name="trend_lkmm"),
    path("dampak/", impact_views.city, name="impact"),
    path("dampak/lkmm/<slug:code>/", impact_views.lkmm_impact, name="impact_lkmm"),
]
