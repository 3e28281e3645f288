"""Where requesters rate a resolved ticket: in the portal's chat (signed in), and on the page
the e-mail's links open (no sign-in: the link's signed token names ticket and requester)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from tickets.models import Ticket
from tickets.views import PortalRequest

from .forms import RatingForm, preselected
from .models import Channel, Rating
from .ratings import Outcome, RatingResult, is_rateable, rating_of, record_rating
from .tokens import BadRatingLink, read_token


class LinkRequest(HttpRequest):
    """A request to the e-mail links' page: anyone's (no sign-in), read by django-htmx."""

    htmx: HtmxDetails


PAGE = "satisfaction/rate.html"
# The rating block: the link's page, the chat's block and every htmx swap of either.
BLOCK = f"{PAGE}#rating_form"


def block_context(
    ticket: Ticket,
    action: str,
    *,
    rating: Rating | None,
    form: RatingForm | None = None,
    result: RatingResult | None = None,
) -> dict[str, object]:
    """What the rating block shows: the form (a fresh one once an attempt came to an
    outcome), or the rating the ticket has (and whether this attempt came too late), or that
    the ticket cannot be rated now."""
    if result is not None:
        rating, form = result.rating, None
    return {
        "ticket": ticket,
        "action": action,
        "rating": rating,
        "form": form or RatingForm(),
        "rateable": rating is not None or is_rateable(ticket),
        "already_rated": result is not None and result.outcome is Outcome.ALREADY_RATED,
        "just_rated": result is not None and result.recorded,
    }


def _record(ticket: Ticket, form: RatingForm, channel: Channel) -> RatingResult | None:
    if not form.is_valid():
        return None
    return record_rating(
        ticket,
        ticket.requester,
        form.cleaned_data["score"],
        comment=form.cleaned_data["comment"],
        channel=channel,
    )


# --- in the portal ----------------------------------------------------------------------


@require_POST
@login_required
def rate_in_portal(request: PortalRequest, pk: int) -> HttpResponse:
    # Another user's ticket looks exactly like a missing one, as everywhere in the portal.
    ticket = get_object_or_404(Ticket, pk=pk, requester=request.user)
    form = RatingForm(request.POST)
    result = _record(ticket, form, Channel.PORTAL)
    if request.htmx:
        context = block_context(
            ticket, request.path, rating=rating_of(ticket), form=form, result=result
        )
        return render(request, BLOCK, context)
    _flash(request, form, result)
    return redirect(ticket)


def _flash(request: HttpRequest, form: RatingForm, result: RatingResult | None) -> None:
    """Without JavaScript the chat page is reloaded: the flash says what came of the form."""
    if result is None:
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
    elif result.recorded:
        messages.success(request, result.outcome.label)
    else:
        messages.info(request, result.outcome.label)


# --- from the e-mail ----------------------------------------------------------------------


def _ticket_of(token: str) -> Ticket | None:
    try:
        link = read_token(token)
    except BadRatingLink:
        return None
    return Ticket.objects.filter(pk=link.ticket_id, requester_id=link.requester_id).first()


@require_http_methods(["GET", "POST"])
def rate_by_link(request: LinkRequest, token: str) -> HttpResponse:
    """The page an e-mail's rating link opens, its score preselected.

    Only the POST records. Mail scanners (Microsoft Defender's Safe Links, Mimecast,
    Proofpoint) and some mail clients fetch every link of a message before anyone reads it:
    were a GET to record, the scanner's visit to the first of the five links would rate every
    ticket 1, and the rating is recorded once, so the person could never correct it.
    """
    ticket = _ticket_of(token)
    if ticket is None:
        return render(request, PAGE, {"link_invalid": True}, status=404)
    rating = rating_of(ticket)
    action = reverse("satisfaction:rate_by_link", args=[token])
    if request.method == "GET":
        # Following a link once rated is a second attempt: it says so and shows the first.
        result = RatingResult(Outcome.ALREADY_RATED, rating) if rating else None
        form = preselected(request.GET.get("score"))
        context = block_context(ticket, action, rating=rating, form=form, result=result)
        return render(request, PAGE, context)
    form = RatingForm(request.POST)
    result = _record(ticket, form, Channel.EMAIL)
    context = block_context(ticket, action, rating=rating, form=form, result=result)
    if request.htmx:
        return render(request, BLOCK, context)
    return render(request, PAGE, context)
