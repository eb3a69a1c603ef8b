from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

SUBMIT_PERMISSION = "calls.submit_call"


class ReadOnlyOrSubmitter(BasePermission):
    """Anyone may read; only an authenticated user with `calls.submit_call` may POST a call."""

    message = _("Submitting a call needs the permission to submit calls (ask the registry's curators).")

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(SUBMIT_PERMISSION))
