"""Links that arrive by email: one-click unsubscribe and "is it fixed?" answers (no sign-in)."""

from django.urls import path

from issues import email_views

app_name = "notifications"

urlpatterns = [
    path("unsubscribe/<str:token>/", email_views.unsubscribe, name="unsubscribe"),
    path("unsubscribe/<str:token>/undo/", email_views.resubscribe, name="resubscribe"),
    path("fixed/<str:token>/<str:answer>/", email_views.fixed_answer, name="fixed"),
]
