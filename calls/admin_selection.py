"""An admin list's action applies to the rows a curator ticked: ids that are no row's (a forged or
damaged form: text, a NUL character) are a message on the list, not a 500 from the database."""
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _


class CheckedSelectionMixin:
    """For a `ModelAdmin`: the ticked ids are checked as the model's ids before its action runs."""

    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                if "\x00" in value:
                    raise ValidationError("NUL")
                pk.to_python(value)
        except ValidationError:
            self.message_user(request, _("The rows ticked are not rows of this list: nothing was done."),
                              messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)
