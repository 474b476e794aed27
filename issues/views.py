from django.http import Http404
from django.shortcuts import render

from issues import selectors


def home(request):
    return render(request, "issues/home.html", {"issues": selectors.public_issues()[:20]})


def issue_detail(request, public_id: str):
    issue = selectors.public_issue(public_id)
    if issue is None:
        raise Http404
    return render(request, "issues/detail.html", {"issue": issue})
