"""Issue 19: a work's public page says "default" where the creator chose nothing — neither for
the work nor as their default for all their works — instead of presenting the portal's default
as the creator's own choice."""

import re
from http import HTTPStatus

from django.urls import reverse

from consent import services as consent_services
from tests import factories


def _uses(client, work) -> dict[str, str]:
    response = client.get(reverse("works:public", args=[work.public_id]))
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    section = page.split('id="ai-uses-heading"', 1)[1].split("</section>", 1)[0]
    pairs = re.findall(r"<dt>([^<]+)</dt>\s*<dd>(.*?)</dd>", section, re.S)
    return {dt: re.sub(r"<[^>]+>", "", dd).split(".")[0] for dt, dd in pairs}, section


def test_a_creator_who_chose_nothing_sees_every_use_marked_default(client, creator):
    work = factories.WorkFactory(owner=creator, title="Untouched")
    uses, section = _uses(client, work)
    assert uses == {
        "Training generative AI": "Not allowed (default)",
        "Training any AI model": "Not allowed (default)",
        "Use when running AI (retrieval, answers, prompts)": "Not allowed (default)",
        "Search indexing that links back": "Allowed (default)",
        "Imitating my style, voice or likeness": "Not allowed (default)",
    }
    assert "“Default” means the creator has not chosen" in section
    assert "The creator chose these" not in section
    assert "The creator chose the others" not in section


def test_what_the_creator_chose_is_not_called_default(client, creator):
    # (Saying what the portal's default already says is no choice: the service writes nothing.)
    consent_services.defaults_set(
        actor=creator, owner=creator, choices={"train-genai": "licence", "style": "licence"}
    )
    work = factories.WorkFactory(owner=creator, title="Partly chosen")
    consent_services.override_set(actor=creator, work=work, choices={"search": "deny"})
    uses, section = _uses(client, work)
    assert uses == {
        # never more open than training any AI model, which the creator left to the portal
        "Training generative AI": "Not allowed",
        "Training any AI model": "Not allowed (default)",
        "Use when running AI (retrieval, answers, prompts)": "Not allowed (default)",
        "Search indexing that links back": "Not allowed",
        "Imitating my style, voice or likeness": "Only under licence (with payment and credit)",
    }
    assert "The creator chose the others." in section


def test_a_creator_who_chose_everything_has_no_default(client, creator, other_creator):
    consent_services.defaults_set(
        actor=creator,
        owner=creator,
        choices={
            "train-genai": "licence",
            "train-ai": "licence",
            "ai-input": "allow",
            "search": "deny",
            "style": "licence",
        },
    )
    work = factories.WorkFactory(owner=creator, title="All chosen")
    client.force_login(other_creator)  # anyone may read a public page, signed in or not
    uses, section = _uses(client, work)
    assert not any("(default)" in choice for choice in uses.values())
    assert "The creator chose these." in section
    assert "“Default” means" not in section
