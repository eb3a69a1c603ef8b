"""The alert messages: text and HTML, in the subscriber's language, with no external resource.

Links are absolute, on `SITE_URL`, in the subscriber's language (French at `/`, English at
`/en/`), and carry signed tokens. Digests carry the RFC 8058 one-click unsubscribe headers.
"""
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calls.alerts.searches import describe_search


def site_url(path: str) -> str:
    """An absolute address on the public site (`SITE_URL`)."""
    return settings.SITE_URL.rstrip("/") + path


def one_line(text: str, limit: int = 150) -> str:
    """Text fit for a header: no line breaks (no header injection), not too long."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _links(subscription, *, manage_token=None) -> dict:
    links = {"site": site_url(reverse("call-search"))}
    if subscription.is_reminder:
        links["call"] = site_url(subscription.call.get_absolute_url())
    else:
        links["search"] = links["site"] + (f"?{subscription.query}" if subscription.query else "")
    if manage_token:
        links["manage"] = site_url(reverse("alert-manage", args=[manage_token]))
        links["unsubscribe"] = site_url(reverse("alert-unsubscribe", args=[manage_token]))
    return links


def _email(*, to: str, language: str, subject, template, context, headers=None) -> EmailMultiAlternatives:
    """A message of the registry: text and HTML (`alerts/email/<template>.txt|.html`), to one address."""
    context = {"language": language, **context}
    text = render_to_string(f"alerts/email/{template}.txt", context)
    html = render_to_string(f"alerts/email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=one_line(subject), body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to],
        headers={"Auto-Submitted": "auto-generated", "Content-Language": language, **(headers or {})},
    )
    message.attach_alternative(html, "text/html")
    return message


def _message(subscription, *, subject, template, context, headers=None) -> EmailMultiAlternatives:
    return _email(to=subscription.email, language=subscription.language, subject=subject, template=template,
                  context={"subscription": subscription, **context}, headers=headers)


def confirmation_message(subscription, *, confirm_token: str) -> EmailMultiAlternatives:
    """The one message sent before confirmation: its link confirms the alert. Anyone may have typed
    the address: the search is named by its filters' labels and values from the registry, never
    by the words typed (nor a link carrying them)."""
    with translation.override(subscription.language):
        links = _links(subscription)
        links["confirm"] = site_url(reverse("alert-confirm", args=[confirm_token]))
        if subscription.is_reminder:
            subject = _("Confirm your deadline reminder: %(title)s") % {"title": subscription.call.title}
        else:
            subject = _("Confirm your alert on new funding calls")
        links.pop("search", None)  # its query string would quote the words searched for
        return _message(subscription, subject=subject, template="confirm", context={
            "links": links,
            "search": describe_search(subscription.query, quote_text=False) if not subscription.is_reminder else [],
            "days": getattr(settings, "ALERTS_UNCONFIRMED_DAYS", 3),
        })


def digest_message(digest, *, manage_token: str) -> EmailMultiAlternatives:
    """A digest: the calls newly published, opened, or closing soon, grouped by reason."""
    subscription = digest.subscription
    with translation.override(subscription.language):
        links = _links(subscription, manage_token=manage_token)
        sections = [
            {"reason": reason, "label": label, "items": [
                {"call": item.call, "url": site_url(item.call.get_absolute_url()), "reasons": item.reasons}
                for item in items
            ]}
            for reason, label, items in digest.sections()
        ]
        count = len(digest.items)
        if subscription.is_reminder:
            subject = _("Deadline reminder: %(title)s") % {"title": subscription.call.title}
        else:
            subject = ngettext(
                "%(count)d funding call for your alert", "%(count)d funding calls for your alert", count,
            ) % {"count": count}
        return _message(subscription, subject=subject, template="digest", context={
            "links": links, "sections": sections, "count": count,
            "search": describe_search(subscription.query) if not subscription.is_reminder else [],
        }, headers={
            "List-Unsubscribe": f"<{links['unsubscribe']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        })


def curator_digest_message(digest, *, lines) -> EmailMultiAlternatives:
    """A curator's daily digest: for each list of what waits, how many items are new since the last
    digest and how many wait in all, with a link to its admin list; in the curator's language.
    `lines` are (`review_queue.WaitingList`, new, waiting) with something new."""
    with translation.override(digest.language):
        count = sum(new for _waiting, new, _total in lines)
        sections = [{"label": str(waiting.label), "new": new, "waiting": total, "url": site_url(waiting.link())}
                    for waiting, new, total in lines]
        links = {"site": site_url(reverse("call-search")), "admin": site_url(reverse("admin:index")),
                 "settings": site_url(reverse("admin:calls_curatordigest_changelist"))}
        subject = ngettext("%(count)d new item waiting for curators", "%(count)d new items waiting for curators",
                           count) % {"count": count}
        return _email(to=digest.user.email, language=digest.language, subject=subject, template="curator_digest",
                      context={"digest": digest, "sections": sections, "count": count, "links": links})
