"""The bell (unread count), one's notifications, the preferences matrix and the one-click
unsubscribe. Portal-style pages, for end users and staff alike (the admin's header links here)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from . import preferences, unsubscribe
from .forms import PreferencesForm
from .models import Channel, Notification

PER_PAGE = 30


class SignedInRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        # Signed out in another tab: the header stops asking (a sign-in page in the bell
        # would help nobody); a plain visit goes to the sign-in page.
        if getattr(request, "htmx", False):
            return HttpResponseStopPolling()
        return redirect_to_login(request.get_full_path())
    unread = Notification.objects.in_bell_of(request.user).unread().count()
    return render(request, "notifications/bell.html", {"unread": unread})


@require_GET
@login_required
def notification_list(request: SignedInRequest) -> HttpResponse:
    mine = Notification.objects.in_bell_of(request.user).select_related("ticket")
    page = Paginator(mine, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@require_POST
@login_required
def mark_read(request: SignedInRequest, pk: int) -> HttpResponse:
    # Another person's notification looks exactly like a missing one.
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    if request.htmx:
        return render(
            request, "notifications/list.html#notification", {"notification": notification}
        )
    return redirect("notifications:list")


@require_POST
@login_required
def mark_all_read(request: SignedInRequest) -> HttpResponse:
    Notification.objects.in_bell_of(request.user).unread().update(read_at=timezone.now())
    return redirect("notifications:list")


@require_http_methods(["GET", "POST"])
@login_required
def preferences_view(request: SignedInRequest) -> HttpResponse:
    form = PreferencesForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        preferences.save_choices(request.user, form.choices())
        messages.success(request, "Your notification settings are saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form, "channels": Channel})


# Mail clients POST here with no session and no CSRF token (RFC 8058 one-click): the signed
# token is what proves the request; all it can do is turn one kind of e-mail off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    found = unsubscribe.read_token(token)
    if found is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    user, event = found
    done = request.method == "POST"
    if done:
        unsubscribe.unsubscribe(user, event)
    return render(
        request,
        "notifications/unsubscribe.html",
        {"event": event, "done": done, "person": user},
    )
