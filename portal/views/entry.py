"""Ways in and out: opening a magic link, signing out."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .. import links
from ..access import end_session, portal_page, refusal, start_session


@portal_page
def open_link(request: HttpRequest, token: str):
    """A link opens the portal once; a used, expired or altered one gets a page saying which."""
    try:
        link = links.redeem(token)
    except links.LinkRefused as refused:
        return refusal(request, str(refused), status=404 if refused.code == "invalid" else 410)
    start_session(request, link)
    return redirect("portal:endpoints")


@require_POST  # CSRF-protected, so another site cannot sign a customer out
@portal_page
def sign_out(request: HttpRequest):
    end_session(request)
    return render(request, "portal/signed_out.html")
