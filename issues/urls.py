from django.urls import path

from issues import views

app_name = "issues"

urlpatterns = [
    path("", views.home, name="home"),
    path("issues/<str:public_id>/", views.issue_detail, name="detail"),
]
