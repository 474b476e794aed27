"""Links that arrive by email: one-click unsubscribe and its undo (no sign-in)."""

from django.urls import path

from issues.notify import views

app_name = "notify"

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("unsubscribe/<str:token>/undo/", views.resubscribe, name="resubscribe"),
]
