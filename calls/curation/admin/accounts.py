"""Users: curators and partners (the "Make them partners" action gives a partner its API token)."""
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from calls import services
from calls.admin_selection import CheckedSelectionMixin

User = get_user_model()


class RegistryUserAdmin(CheckedSelectionMixin, UserAdmin):
    """Django's users admin, with an action making the chosen accounts partners (the `partners`
    group and an API token each), for staff who may change users and add tokens."""

    actions = ["make_partners"]

    @admin.action(description=_("Make them partners (the partners group and an API token each)"),
                  permissions=["make_partners"])
    def make_partners(self, request, queryset):
        lines = []
        for user in queryset.order_by("username"):
            token, created = services.make_partner(user=user)
            lines.append((user.get_username(), token.key, _("new token") if created else _("token kept")))
        self.message_user(request, format_html(
            "{} <ul>{}</ul>", _("Partners: send each its token, as the header Authorization: Token <key>."),
            format_html_join("", "<li>{}: <code>{}</code> ({})</li>", lines),
        ), messages.SUCCESS)

    def has_make_partners_permission(self, request):
        """Both permissions (an action's permissions are alternatives: one method asks for both)."""
        return self.has_change_permission(request) and request.user.has_perm("authtoken.add_tokenproxy")


admin.site.unregister(User)
admin.site.register(User, RegistryUserAdmin)
