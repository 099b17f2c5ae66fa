"""The creator's AI-choice pages: their defaults and credit, one work's choices, and the panel on
the work's page — plain words beside every choice, the train-ai implication said out loud, and
bad input that changes nothing."""

import re
from datetime import timedelta
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consent import decisions, selectors, services
from consent.models import CreditPreference, LedgerEntry, LicenceGrant, Preference
from tests import factories


@pytest.fixture
def book(creator):
    return factories.WorkFactory(owner=creator, title="The Quiet Harbour", kind="book")


@pytest.fixture
def labs(db):
    return factories.AIDeveloperFactory(name="Example AI Labs", slug="example-ai-labs")


def _defaults(**choices):
    data = {"section": "defaults"}
    for use in ["train-genai", "train-ai", "ai-input", "search", "style"]:
        data[f"defaults-{use.replace('-', '_')}"] = choices.get(use.replace("-", "_"), "deny")
    data["defaults-search"] = choices.get("search", "allow")
    return data


def _work_choices(**choices):
    return {
        use.replace("-", "_"): choices.get(use.replace("-", "_"), "default")
        for use in ["train-genai", "train-ai", "ai-input", "search", "style"]
    }


# --- Access ------------------------------------------------------------------------------------

PAGES = ["consent:preferences", "consent:bulk", "consent:grants", "consent:history"]


@pytest.mark.parametrize("name", [*PAGES, "consent:mandates", "consent:members"])
def test_anonymous_visitor_is_sent_to_sign_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_login"))


def test_anonymous_visitor_is_sent_to_sign_in_from_a_work(client, book):
    response = client.get(reverse("consent:work", args=[book.public_id]))
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("persona", ["other_creator", "guild_staff", "superuser", "charlie"])
def test_nobody_else_sees_or_changes_a_works_choices(client, request, book, persona):
    client.force_login(request.getfixturevalue(persona))
    url = reverse("consent:work", args=[book.public_id])
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert client.post(url, _work_choices(train_genai="allow")).status_code == HTTPStatus.NOT_FOUND
    assert not Preference.objects.exists()


def test_every_signed_in_person_has_defaults_of_their_own(client, charlie):
    client.force_login(charlie)
    page = client.get(reverse("consent:preferences")).content.decode()
    assert "How AI may use your works" in page


def test_the_header_links_to_ai_choices(client, creator):
    client.force_login(creator)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert f'href="{reverse("consent:preferences")}"' in page
    assert reverse("consent:members") not in page


def test_guild_staff_see_members_choices_in_the_header(client, guild_staff):
    client.force_login(guild_staff)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert f'href="{reverse("consent:members")}"' in page


# --- Defaults ----------------------------------------------------------------------------------


def test_each_use_is_a_row_of_the_grid_with_plain_words_for_every_choice(client, creator):
    client.force_login(creator)
    page = client.get(reverse("consent:preferences")).content.decode()
    # One grid: a row per use, each row still a radio group (a fieldset named by its legend).
    assert page.count('class="choice-grid ') == 1
    assert page.count('<fieldset class="choice-group use-row') == 5
    assert "<legend>Training generative AI</legend>" in page
    assert 'id="id_defaults-search_help">Search engines index the work' in page
    # Every radio is described by what choosing it means.
    radio = 'id="id_defaults-train_genai_2" required aria-describedby="id_defaults-train_genai_2_'
    radio += 'means"'
    assert radio in page
    assert 'id="id_defaults-train_genai_2_means" data-choice="licence"' in page
    assert "AI companies may not train generative models on your works." in page
    assert "AI companies may train generative models on your works only under a licence" in page
    assert "Search engines may index your works and link back to them." in page
    # The built-in defaults are checked: AI denied, search allowed.
    assert 'name="defaults-train_genai" value="deny"' in page
    assert 'value="deny" id="id_defaults-train_genai_1" required checked' in page
    assert 'value="allow" id="id_defaults-search_0" required checked' in page


def test_the_grid_posts_the_same_fields_as_before_and_they_all_save(client, creator, book):
    """The grid (issue 20) is markup only: the same radio names and values, on both pages."""
    client.force_login(creator)
    page = client.get(reverse("consent:preferences")).content.decode()
    names = {
        f"defaults-{use}" for use in ["train_genai", "train_ai", "ai_input", "search", "style"]
    }
    assert set(re.findall(r'type="radio" name="([^"]+)"', page)) == names
    client.post(
        reverse("consent:preferences"),
        {
            "section": "defaults",
            "defaults-train_genai": "licence",
            "defaults-train_ai": "allow",
            "defaults-ai_input": "licence",
            "defaults-search": "deny",
            "defaults-style": "allow",
        },
    )
    saved = {use: d.choice for use, d in decisions.defaults_for(creator).items()}
    assert saved == {
        "train-genai": "licence",
        "train-ai": "allow",
        "ai-input": "licence",
        "search": "deny",
        "style": "allow",
    }
    url = reverse("consent:work", args=[book.public_id])
    page = client.get(url).content.decode()
    assert set(re.findall(r'type="radio" name="([^"]+)"', page)) == {
        name.removeprefix("defaults-") for name in names
    }
    assert set(re.findall(r'type="radio" name="train_ai" value="([^"]+)"', page)) == {
        "default",
        "allow",
        "deny",
        "licence",
    }
    client.post(url, _work_choices(train_ai="deny", style="licence"))
    assert selectors.overrides_for(book) == {"train-ai": "deny", "style": "licence"}


def test_the_page_says_training_generative_ai_is_a_kind_of_training_ai(client, creator):
    client.force_login(creator)
    page = client.get(reverse("consent:preferences")).content.decode()
    assert "if you say no to training any AI, that also means no to generative AI" in page
    assert "In force now" not in page


def test_the_page_says_when_the_implication_is_in_force(client, creator):
    services.defaults_set(
        actor=creator, owner=creator, choices={"train-genai": "allow", "train-ai": "deny"}
    )
    client.force_login(creator)
    page = client.get(reverse("consent:preferences")).content.decode()
    assert "In force now:" in page
    assert "Because you said no to training any AI" in page


def test_saving_defaults_changes_them_and_sends_a_receipt(
    client, creator, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(creator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("consent:preferences"),
            _defaults(train_genai="licence", train_ai="licence"),
            follow=True,
        )
    assert "Saved — a receipt is on its way to your inbox" in response.content.decode()
    defaults = decisions.defaults_for(creator)
    assert defaults["train-genai"].choice == "licence"
    assert defaults["search"].choice == "allow"
    entry = LedgerEntry.objects.get()
    assert len(mailoutbox) == 1 and entry.hash in mailoutbox[0].body


def test_saving_the_same_defaults_writes_nothing(client, creator):
    client.force_login(creator)
    response = client.post(reverse("consent:preferences"), _defaults(), follow=True)
    assert "Nothing changed" in response.content.decode()
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"defaults-train_genai": "maybe"},
        {"defaults-search": "<script>alert(1)</script>"},
        {"defaults-style": ""},
    ],
)
def test_unknown_choices_change_nothing(client, creator, bad):
    client.force_login(creator)
    data = {**_defaults(train_ai="allow"), **bad}
    response = client.post(reverse("consent:preferences"), data)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert 'class="errorlist"' in page and "<script>alert(1)" not in page
    assert not Preference.objects.exists() and not LedgerEntry.objects.exists()


def test_an_error_is_tied_to_its_radio_group(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("consent:preferences"), {**_defaults(), "defaults-style": "maybe"}
    )
    page = response.content.decode()
    assert 'aria-describedby="id_defaults-style_error id_defaults-style_help"' in page
    assert 'id="id_defaults-style_error"' in page
    assert "<title>Error:" in page


def test_credit_preferences_are_saved_through_the_service(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("consent:preferences"),
        {
            "section": "credit",
            "credit-credit_line": "© Alice Author 2019",
            "credit-attribution_required": "on",
            "credit-link": "https://alice.example",
            "credit-licensing_contact": "rights@alice.example",
            "credit-terms_url": "https://alice.example/terms",
        },
        follow=True,
    )
    assert "Saved — a receipt is on its way" in response.content.decode()
    credit = CreditPreference.objects.get(owner=creator)
    assert credit.credit_line == "© Alice Author 2019" and credit.attribution_required
    assert LedgerEntry.objects.get().canonical.count("credit.set") == 1


def test_a_bad_credit_link_changes_nothing(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("consent:preferences"),
        {"section": "credit", "credit-credit_line": "Me", "credit-link": "javascript:alert(1)"},
    )
    assert response.status_code == HTTPStatus.OK
    assert "Enter a valid URL" in response.content.decode()
    assert not CreditPreference.objects.exists() and not LedgerEntry.objects.exists()


def test_the_page_links_to_grants_history_mandates_and_snippets(client, creator):
    client.force_login(creator)
    page = client.get(reverse("consent:preferences")).content.decode()
    for name in ["consent:grants", "consent:history", "consent:mandates", "consent:bulk"]:
        assert reverse(name) in page
    assert reverse("consent:snippets") in page


def test_the_preferences_page_runs_a_constant_number_of_queries(client, creator):
    client.force_login(creator)
    url = reverse("consent:preferences")
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(30):
        factories.WorkFactory(owner=creator)
    services.defaults_set(actor=creator, owner=creator, choices={"train-ai": "licence"})
    services.credit_set(actor=creator, owner=creator, credit_line="Alice")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) <= len(few) + 1  # the credit row, once it exists


# --- One work ----------------------------------------------------------------------------------


def test_the_work_page_shows_the_effective_decision_with_its_source(client, creator, book):
    services.defaults_set(actor=creator, owner=creator, choices={"ai-input": "licence"})
    services.override_set(actor=creator, work=book, choices={"search": "deny"})
    client.force_login(creator)
    page = client.get(reverse("consent:work", args=[book.public_id])).content.decode()
    assert "AI companies may not train generative models on this book." in page
    assert "(the built-in default)" in page
    assert "AI tools may use this book as input only under a licence" in page
    assert "(your default)" in page
    assert "Search engines may not index this book." in page
    assert "(this work’s choice)" in page
    assert "Follow my default (now: only under licence)" in page
    assert "Self-declared" in page


def test_the_work_page_says_why_generative_training_is_denied(client, creator, book):
    services.override_set(actor=creator, work=book, choices={"train-genai": "allow"})
    client.force_login(creator)
    page = client.get(reverse("consent:work", args=[book.public_id])).content.decode()
    assert "because you said no to training any AI" in page


def test_the_work_page_lists_the_licences_in_force_per_developer(client, creator, book, labs):
    LicenceGrant.objects.create(
        owner=creator,
        developer=labs,
        all_works=True,
        uses=["train-ai"],
        licence_ref="LIC-42",
        starts_on=timezone.localdate() - timedelta(days=1),
    )
    client.force_login(creator)
    page = client.get(reverse("consent:work", args=[book.public_id])).content.decode()
    assert "<h3>Example AI Labs</h3>" in page
    assert "under licence LIC-42" in page
    # train-ai covers train-genai, a kind of it.
    assert "AI companies may train generative models on this book — under licence LIC-42." in page


def test_overriding_and_following_the_default_again(client, creator, book):
    client.force_login(creator)
    url = reverse("consent:work", args=[book.public_id])
    response = client.post(url, _work_choices(train_genai="licence", train_ai="licence"))
    assert response.status_code == HTTPStatus.FOUND
    assert decisions.decide(book, "train-genai").choice == "licence"
    assert decisions.decide(book, "train-genai").source == "override"
    client.post(url, _work_choices())
    assert not Preference.objects.filter(work=book).exists()
    assert decisions.decide(book, "train-genai").source == "built-in"
    assert LedgerEntry.objects.count() == 2


def test_an_unknown_use_value_on_a_work_changes_nothing(client, creator, book):
    client.force_login(creator)
    url = reverse("consent:work", args=[book.public_id])
    response = client.post(url, _work_choices(train_genai="sometimes"))
    assert response.status_code == HTTPStatus.OK
    assert not Preference.objects.exists() and not LedgerEntry.objects.exists()


def test_an_html_title_is_shown_escaped(client, creator):
    work = factories.WorkFactory(owner=creator, title="<img src=x onerror=alert(1)>")
    client.force_login(creator)
    page = client.get(reverse("consent:work", args=[work.public_id])).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_an_archived_work_keeps_its_choices(client, creator, book):
    services.override_set(actor=creator, work=book, choices={"train-genai": "licence"})
    book.status = "archived"
    book.save()
    client.force_login(creator)
    page = client.get(reverse("consent:work", args=[book.public_id])).content.decode()
    assert "archived — it keeps its choices" in page
    assert 'value="licence" id="id_train_genai_3" required checked' in page


# --- The panel on the work's page --------------------------------------------------------------


def test_the_works_page_shows_how_ai_may_use_it_in_plain_words(client, creator, book):
    services.defaults_set(actor=creator, owner=creator, choices={"style": "licence"})
    client.force_login(creator)
    page = client.get(reverse("works:detail", args=[book.public_id])).content.decode()
    assert "How AI may use this work" in page
    assert "AI companies may not train generative models on this book." in page
    assert "AI may imitate the style, voice or likeness in this book only under a licence" in page
    assert reverse("consent:work", args=[book.public_id]) in page


def test_the_works_list_links_to_bulk_apply_with_its_filters(client, creator, book):
    client.force_login(creator)
    page = client.get(reverse("works:list"), {"kind": "book", "q": "Quiet"}).content.decode()
    assert "Set AI choices for these works" in page
    assert f"{reverse('consent:bulk')}?scope=search&amp;" in page
    assert "kind=book" in page and "q=Quiet" in page


# --- Demo data ---------------------------------------------------------------------------------


def test_demo_data_holds_the_issues_choices_and_its_ledger_verifies(db):
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent
    from accounts.models import User
    from notices.models import AIDeveloper
    from works.models import Work

    ada = User.objects.get(email="ada@demo.example")
    ben = User.objects.get(email="ben@demo.example")
    labs = AIDeveloper.objects.get(slug="example-ai-labs")
    assert {d.choice for u, d in decisions.defaults_for(ada).items() if u != "search"} == {"deny"}
    overridden = Work.objects.filter(owner=ada, preferences__choice="licence").distinct()
    assert overridden.count() == 1
    assert decisions.decide(overridden.get(), "train-genai").choice == "licence"
    ben_defaults = decisions.defaults_for(ben)
    assert ben_defaults["search"].choice == "allow"
    assert ben_defaults["train-ai"].choice == "allow"
    assert ben_defaults["train-genai"].choice == "deny"
    grant = LicenceGrant.objects.get(owner=ben)
    assert grant.developer == labs and grant.uses == ["train-genai"] and grant.all_works
    ben_work = Work.objects.filter(owner=ben).first()
    assert decisions.decide(ben_work, "train-genai", developer=labs).source == "grant"
    assert decisions.decide(ben_work, "train-genai").choice == "deny"
    assert LedgerEntry.objects.count() == 3  # Ada's override, Ben's default, Ben's grant
    call_command("verify_ledger", stdout=StringIO())
