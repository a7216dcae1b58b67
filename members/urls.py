from django.urls import path

from members.views import groups, members

app_name = "members"
urlpatterns = [
    path("", members.member_list, name="list"),
    path("baru/", members.member_create, name="create"),
    path("permohonan/", members.application_queue, name="applications"),
    path("ganda/", members.duplicates, name="duplicates"),
    path("<int:pk>/", members.member_detail, name="detail"),
    path("<int:pk>/foto/", members.member_photo, name="photo"),
    path("<int:pk>/ubah/", members.member_edit, name="edit"),
    path("<int:pk>/putuskan/", members.member_decide, name="decide"),
    path("<int:pk>/status/", members.member_status, name="status"),
    path("<int:pk>/daftar-ulang/", members.member_reapply, name="reapply"),
    path("<int:pk>/pendapatan/", members.income_create, name="income"),
    path("kelompok/", groups.group_list, name="groups"),
    path("kelompok/baru/", groups.group_create, name="group_create"),
    path("kelompok/<int:pk>/", groups.group_detail, name="group_detail"),
    path("kelompok/<int:pk>/ubah/", groups.group_edit, name="group_edit"),
    path("kelompok/<int:pk>/tambah/", groups.group_add_member, name="group_add"),
    path("kelompok/<int:pk>/keluarkan/", groups.group_remove_member, name="group_remove"),
]
