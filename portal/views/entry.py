"""Ways in and out: opening a magic link (a GET shows a button, the POST uses the link), signing out."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .. import links
from ..access import end_session, portal_page, refusal, start_session


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@portal_page
def open_link(request: HttpRequest, token: str):
    """A link opens the portal once; a used, expired or altered one gets a page saying which.

    Mail scanners and chat unfurlers GET every link they see: a GET only shows a button, and the POST
    it sends (CSRF-protected, so from this page only) is what uses the link and starts the session.
    """
    try:
        if request.method != "POST":
            link = links.check(token)
            return render(request, "portal/open.html", {"organisation": link.organisation})
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
