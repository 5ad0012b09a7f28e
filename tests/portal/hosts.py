"""A host's own login for the portal tests: the user's first organisation, for members with the permission."""

from events.models import Organisation


def organisation_of(request):
    if not request.user.is_authenticated:
        return None
    return Organisation.objects.filter(members=request.user).first()


def may_use_portal(request, organisation):
    return request.user.has_perm("hooks.change_webhook")
