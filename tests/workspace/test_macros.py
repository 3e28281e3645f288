"""Macros: placeholders rendered safely and checked on save, the picker on the ticket page
(htmx swap and plain GET), uses counted per reply sent, who may keep which, article drafts."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from knowledge.models import Article, ArticleStatus
from macros.models import Macro, MacroUse
from macros.placeholders import Subject, render, validate_placeholders
from tests.factories import AgentFactory
from tests.workspace.conftest import change_url, reply_form, reply_url
from tickets.models import Message, Role

pytestmark = pytest.mark.django_db

MACRO_CHANGELIST = reverse("admin:macros_macro_changelist")
GREETING = "Hi {{ user.first_name }}, about ticket #{{ ticket.id }}:\n\nRestart **the VPN**.\n\n{{agent.first_name}}"


def _macro(owner=None, title="VPN restart", body=GREETING, **fields) -> Macro:
    return Macro.objects.create(title=title, body=body, owner=owner, **fields)


def _fill_url(ticket, macro) -> str:
    return reverse("admin:tickets_ticket_macro", args=[ticket.pk]) + f"?macro={macro.pk}"


# --- placeholders -------------------------------------------------------------------------


def test_it_renders_the_placeholders_for_the_ticket(ticket, agent):
    ticket.requester.first_name = "Alice"
    agent.first_name = "Bob"

    text = render(GREETING, Subject(ticket, agent))

    assert text == f"Hi Alice, about ticket #{ticket.pk}:\n\nRestart **the VPN**.\n\nBob"


def test_a_missing_first_name_falls_back_to_the_user_name(ticket, agent):
    assert render("Hi {{ user.first_name }}", Subject(ticket, agent)) == (
        f"Hi {ticket.requester.username}"
    )


def test_values_are_plain_text_never_run_again(ticket, agent):
    ticket.requester.first_name = "{{ agent.first_name }}{% debug %}"

    assert render("Hi {{ user.first_name }}", Subject(ticket, agent)) == (
        "Hi {{ agent.first_name }}{% debug %}"
    )


@pytest.mark.parametrize(
    "body",
    [
        "Hi {{ user.password }}",
        "Hi {{ ticket.requester.password }}",
        "{{ user.first_name|upper }}",
        "{% load static %}",
        "{{ settings.SECRET_KEY }}",
    ],
)
def test_it_refuses_unknown_placeholders_and_template_tags(body):
    with pytest.raises(ValidationError) as refused:
        validate_placeholders(body)

    assert "Unknown placeholder" in str(refused.value)
    assert "{{ user.first_name }}" in str(refused.value)  # it says what may be used


def test_the_admin_form_refuses_an_unknown_placeholder_with_a_clear_error(agent_client):
    response = agent_client.post(
        reverse("admin:macros_macro_add"),
        {"title": "Bad", "category": "", "body": "Dear {{ user.lastname }}"},
    )

    assert response.status_code == 200
    assert "Unknown placeholder {{ user.lastname }}" in response.content.decode()
    assert not Macro.objects.exists()


# --- on the ticket page ---------------------------------------------------------------------


def test_the_picker_offers_my_macros_and_the_shared_not_a_colleagues(
    agent_client, agent, colleague, ticket
):
    _macro(title="Shared greeting")
    _macro(owner=agent, title="My VPN fix")
    _macro(owner=colleague, title="Carol's own")

    html = agent_client.get(change_url(ticket)).content.decode()

    assert "Shared greeting" in html and "My VPN fix" in html
    assert "Carol's own" not in html


def test_a_macro_fills_the_reply_box_in_an_htmx_swap(agent_client, ticket):
    macro = _macro()

    response = agent_client.get(_fill_url(ticket, macro), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="reply-body">')
    assert f"about ticket #{ticket.pk}:" in html and "{{" not in html
    assert f'name="macro" value="{macro.pk}"' in html


def test_without_javascript_the_page_prefills_the_macro(agent_client, ticket):
    macro = _macro()

    redirected = agent_client.get(_fill_url(ticket, macro))
    html = agent_client.get(change_url(ticket) + f"?macro={macro.pk}").content.decode()

    assert redirected.status_code == 302 and f"?macro={macro.pk}" in redirected["Location"]
    assert f"about ticket #{ticket.pk}:" in html and "From the macro “VPN restart”" in html


def test_a_colleagues_personal_macro_cannot_be_filled_in(agent_client, colleague, ticket):
    theirs = _macro(owner=colleague)

    response = agent_client.get(_fill_url(ticket, theirs), headers={"HX-Request": "true"})

    assert response.status_code == 404


def test_a_reply_sent_from_a_macro_counts_once_a_note_not_at_all(agent_client, agent, ticket):
    macro = _macro()
    form = {**reply_form(agent_client, ticket), "body": "Edited text", "macro": str(macro.pk)}

    agent_client.post(reply_url(ticket), {**form, "send": "note"})
    assert MacroUse.objects.count() == 0
    agent_client.post(reply_url(ticket), {**reply_form(agent_client, ticket), **_only(form)})

    use = MacroUse.objects.get()
    assert use.macro == macro and use.agent == agent
    assert use.message == Message.objects.get(ticket=ticket, role=Role.AGENT)
    assert use.message.body == "Edited text"


def _only(form: dict[str, str]) -> dict[str, str]:
    return {"body": form["body"], "macro": form["macro"]}


def test_a_refused_reply_counts_no_use(agent_client, user, ticket):
    from tickets import lifecycle

    macro = _macro()
    form = {**reply_form(agent_client, ticket), "body": "x", "macro": str(macro.pk)}
    lifecycle.post_user_message(ticket, user, "More")

    agent_client.post(reply_url(ticket), form)

    assert MacroUse.objects.count() == 0


# --- the macro admin -----------------------------------------------------------------------


def test_the_list_shows_each_macros_uses_most_used_first(agent_client, manager, ticket):
    rare, popular = _macro(title="Rare"), _macro(title="Popular")
    for _ in range(2):
        form = {**reply_form(agent_client, ticket), "body": "x", "macro": str(popular.pk)}
        agent_client.post(reply_url(ticket), form)
    client = Client()
    client.force_login(manager)

    response = client.get(MACRO_CHANGELIST)
    by_uses = client.get(MACRO_CHANGELIST + "?o=4")  # by "Replies sent" (the 4th), ascending

    listed = [m.title for m in response.context["cl"].result_list]
    assert listed == ["Popular", "Rare"]
    assert [m.use_count for m in response.context["cl"].result_list] == [2, 0]
    assert [m.title for m in by_uses.context["cl"].result_list] == ["Rare", "Popular"]
    assert rare.pk


def test_an_agents_new_macro_is_personal_and_a_shared_one_read_only(agent_client, agent):
    shared = _macro(title="Shared")
    agent_client.post(
        reverse("admin:macros_macro_add"),
        {"title": "Mine", "category": "network", "body": "Hi {{ user.first_name }}"},
    )
    page = agent_client.get(reverse("admin:macros_macro_change", args=[shared.pk]))
    agent_client.post(
        reverse("admin:macros_macro_change", args=[shared.pk]),
        {"title": "Hijacked", "category": "", "body": "x"},
    )

    assert Macro.objects.get(title="Mine").owner == agent
    assert page.context["has_change_permission"] is False
    assert Macro.objects.get(pk=shared.pk).title == "Shared"


def test_agents_never_see_a_colleagues_personal_macros(agent_client, colleague):
    theirs = _macro(owner=colleague, title="Carol's")

    listed = agent_client.get(MACRO_CHANGELIST).context["cl"].result_list
    page = agent_client.get(reverse("admin:macros_macro_change", args=[theirs.pk]))

    assert theirs not in listed
    assert page.status_code == 302  # as for a missing one


def test_managers_keep_the_shared_macros(manager):
    client = Client()
    client.force_login(manager)

    client.post(
        reverse("admin:macros_macro_add"),
        {"title": "Welcome", "category": "", "body": "Hello {{ user.first_name }}", "owner": ""},
    )

    assert Macro.objects.get(title="Welcome").is_shared


def test_a_macro_becomes_a_knowledge_article_draft(manager):
    macro = _macro(category="network")
    client = Client()
    client.force_login(manager)

    response = client.post(
        MACRO_CHANGELIST, {"action": "make_article_draft", "_selected_action": [macro.pk]}
    )

    article = Article.objects.get(origin=f"macro:{macro.pk}")
    assert response.status_code == 302 and str(article.pk) in response["Location"]
    assert article.status == ArticleStatus.DRAFT and article.title == "VPN restart"
    assert "[the user's first name" in article.body and "{{" not in article.body
    assert article.revisions.count() == 1


def test_deleting_an_agent_takes_their_personal_macros_not_the_shared():
    leaver = AgentFactory(username="leaver")
    _macro(owner=leaver, title="Leaver's")
    _macro(title="Shared")

    leaver.delete()

    assert list(Macro.objects.values_list("title", flat=True)) == ["Shared"]
