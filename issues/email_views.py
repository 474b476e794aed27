from django.http import Http404


def unsubscribe(request, token: str):
    raise Http404
