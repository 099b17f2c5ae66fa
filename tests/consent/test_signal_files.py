"""The site-wide signal files (robots.txt, ai.txt, /.well-known/tdmrep.json) and the creator's
snippets for their own website, each read back with an independent parser: robots.txt with
Python's ``urllib.robotparser``, an RFC 9309 group reader and Google's parser
(``fast-robotstxt``, which reads Cloudflare's ``Content-Signal`` lines)."""

import itertools
import urllib.robotparser
from http import HTTPStatus

import pytest
from django.conf import settings
from django.urls import reverse

from consent import decisions, signals
from consent.models import CreditPreference, Preference
from tests import factories

from . import signal_parsers as read

AI_CRAWLERS = [
    "GPTBot",
    "ClaudeBot",
    "Google-Extended",
    "Meta-ExternalAgent",
    "Applebot-Extended",
    "CCBot",
    "Bytespider",
]
USES = ["train-genai", "train-ai", "ai-input", "search", "style"]


def robots_groups(text: str) -> list[dict]:
    """robots.txt as RFC 9309 groups: ``{"agents": [...], "rules": [(key, value)]}``."""
    groups: list[dict] = []
    current = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            if current is None or current["rules"]:
                current = {"agents": [], "rules": []}
                groups.append(current)
            current["agents"].append(value)
        else:
            assert current is not None, f"{raw!r} outside any group"
            current["rules"].append((key, value))
    return groups


def robot_parser(text: str) -> urllib.robotparser.RobotFileParser:
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(text.splitlines())
    return parser


def test_robots_txt_lets_ai_crawlers_read_work_pages_and_nothing_private(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain")
    robots = robot_parser(response.content.decode())
    for agent in [*AI_CRAWLERS, "SomeSearchBot"]:
        # The work pages carry each work's own preferences: crawlers must be able to read them.
        assert robots.can_fetch(agent, "/w/abc123/"), agent
        assert robots.can_fetch(agent, "/w/abc123/license.rsl"), agent
        assert robots.can_fetch(agent, "/.well-known/tdmrep.json"), agent
        assert not robots.can_fetch(agent, "/works/abc123/"), agent
        assert not robots.can_fetch(agent, "/consent/history/"), agent
    for agent in AI_CRAWLERS:
        assert not robots.can_fetch(agent, "/dashboard/"), agent
    assert robots.can_fetch("SomeSearchBot", "/")


def test_robots_txt_states_one_content_usage_default_for_work_pages_in_every_group(client, db):
    groups = robots_groups(client.get("/robots.txt").content.decode())
    named = [agent for group in groups for agent in group["agents"]]
    assert set(AI_CRAWLERS) <= set(named) and "*" in named
    for group in groups:
        usage = [value for key, value in group["rules"] if key == "content-usage"]
        assert len(usage) == 1, group
        path, preferences = usage[0].split(" ", 1)
        assert path == "/w/"
        # The built-in default in aipref vocab-08: no AI training, no AI input, search allowed.
        assert read.content_usage(preferences) == {"train-ai": "n", "ai-use": "n", "search": "y"}


def test_robots_txt_states_the_content_signals_to_googles_parser(client, db):
    body = client.get("/robots.txt").content.decode()
    # Google's robots.txt parser reads the Content-Signal line of the group that applies to
    # each crawler: the AI crawlers' group and everyone else's carry the built-in default.
    for agent in [*AI_CRAWLERS, "SomeSearchBot"]:
        signal = read.content_signal(body, agent, f"{settings.SITE_URL}/w/abc123/")
        assert signal == {"search": True, "ai_input": False, "ai_train": False}, agent
    groups = robots_groups(body)
    for group in groups:
        (line,) = [value for key, value in group["rules"] if key == "content-signal"]
        assert line == "search=yes, ai-input=no, ai-train=no"  # Cloudflare's own order
    # The comment block says what each signal means and that a "no" reserves the EU TDM right.
    comments = " ".join(line for line in body.splitlines() if line.startswith("#"))
    for words in ["search ", "ai-input ", "ai-train ", "ARTICLE 4 OF DIRECTIVE (EU) 2019/790"]:
        assert words in comments, words
    assert "draft-ietf-aipref-vocab-08" in comments


def test_robots_txt_names_the_crawlers_of_registered_developers(client, db):
    factories.AIDeveloperFactory(crawler_user_agents="FrontierBot\nFrontier Bot/2.0\n\nNew_Bot")
    factories.AIDeveloperFactory(crawler_user_agents="RetiredBot", is_active=False)
    named = [
        agent
        for group in robots_groups(client.get("/robots.txt").content.decode())
        for agent in group["agents"]
    ]
    assert "FrontierBot" in named and "New_Bot" in named
    assert "RetiredBot" not in named
    assert not any(" " in agent or "/" in agent for agent in named)
    assert not robot_parser(client.get("/robots.txt").content.decode()).can_fetch(
        "FrontierBot", "/works/"
    )


def test_tdmrep_json_reserves_work_pages_and_names_a_policy(client, db):
    response = client.get("/.well-known/tdmrep.json")
    assert response["Content-Type"].startswith("application/json")
    (rule,) = read.load_json(response.content)
    assert rule["location"] == "/w/*"
    assert rule["tdm-reservation"] == 1
    assert rule["tdm-policy"].startswith(settings.SITE_URL)
    policy_response = client.get(rule["tdm-policy"].removeprefix(settings.SITE_URL))
    assert policy_response["Content-Type"].startswith("application/ld+json")
    policy = read.load_json(policy_response.content)
    assert policy["@type"] == "Offer"
    assert policy["profile"] == "http://www.w3.org/ns/tdmrep"
    assert policy["@context"] == [
        "http://www.w3.org/ns/odrl.jsonld",
        "http://www.w3.org/ns/tdmrep.jsonld",
    ]
    assert policy["permission"][0]["duty"] == [{"action": "obtainConsent"}]


def test_ai_txt_keeps_work_pages_out_of_ai_training_by_default(client, db):
    response = client.get("/ai.txt")
    assert response["Content-Type"].startswith("text/plain")
    robots = robot_parser(response.content.decode())
    assert not robots.can_fetch("AnyDatasetBuilder", "/w/abc123/")


def test_signal_files_are_never_served_stale(client, db):
    for path in ["/robots.txt", "/ai.txt", "/.well-known/tdmrep.json"]:
        assert "no-cache" in client.get(path)["Cache-Control"], path


@pytest.mark.parametrize(
    "document", ["consent:tdm-policy", "consent:licence", "consent:c2pa-training-mining"]
)
def test_an_unknown_work_has_no_policy_and_no_licence(client, db, document):
    assert client.get(reverse(document, args=["no-such-work"])).status_code == 404


def test_the_work_documents_have_their_media_types(client, creator):
    work = factories.WorkFactory(owner=creator)
    policy = client.get(reverse("consent:tdm-policy", args=[work.public_id]))
    assert policy["Content-Type"] == "application/ld+json; charset=utf-8"
    licence = client.get(reverse("consent:licence", args=[work.public_id]))
    assert licence["Content-Type"] == "application/rsl+xml; charset=utf-8"
    assert client.post(reverse("consent:licence", args=[work.public_id])).status_code == 405
    head = client.head(reverse("consent:tdm-policy", args=[work.public_id]))
    assert head.status_code == 200 and head["Content-Type"].startswith("application/ld+json")


# --- Snippets for their own website ---------------------------------------------------------------


def test_snippets_need_sign_in(client, db):
    response = client.get(reverse("consent:snippets"))
    assert response.status_code == HTTPStatus.FOUND
    assert reverse("account_login") in response["Location"]


def test_snippets_are_their_own_defaults_copy_ready(client, creator, other_creator):
    Preference.objects.create(owner=creator, work=None, use="train-genai", choice="allow")
    Preference.objects.create(owner=creator, work=None, use="train-ai", choice="allow")
    Preference.objects.create(owner=other_creator, work=None, use="search", choice="deny")
    client.force_login(creator)
    page = client.get(reverse("consent:snippets")).content.decode()
    assert "Content-Usage: train-ai=y, ai-use=n, search=y" in page
    assert "Content-Signal: search=yes, ai-input=no, ai-train=yes" in page
    assert "X-Robots-Tag" not in page  # they allow training generative AI
    assert "&lt;meta name=&quot;tdm-reservation&quot;" in page  # shown as text, not markup
    assert page.count("<pre") == 6  # one copy-ready block per snippet
    client.force_login(other_creator)
    page = client.get(reverse("consent:snippets")).content.decode()
    assert "Content-Usage: train-ai=n, ai-use=n, search=n" in page
    assert "Content-Signal: search=no, ai-input=no, ai-train=no" in page


def test_snippets_match_their_defaults_for_every_combination(creator):
    CreditPreference.objects.create(owner=creator, terms_url="https://alice.example/terms")
    for values in itertools.product(["allow", "deny", "licence"], repeat=len(USES)):
        combo = dict(zip(USES, values, strict=True))
        for use, choice in combo.items():
            Preference.objects.update_or_create(
                owner=creator, work=None, use=use, defaults={"choice": choice}
            )
        expected = {u: d.choice for u, d in decisions.defaults_for(creator).items()}
        reserved = any(expected[u] != "allow" for u in read.AI_USES)
        snippets = signals.snippets_for(creator)

        headers = dict(line.split(": ", 1) for line in snippets["headers"].splitlines())
        assert read.content_usage(headers["Content-Usage"]) == {
            "train-ai": "y" if expected["train-genai"] == "allow" else "n",
            "ai-use": "y" if expected["ai-input"] == "allow" else "n",
            "search": "y" if expected["search"] == "allow" else "n",
        }
        assert ("X-Robots-Tag" in headers) == (expected["train-genai"] != "allow")
        assert headers["tdm-reservation"] == ("1" if reserved else "0")
        assert headers.get("tdm-policy") == ("https://alice.example/terms" if reserved else None)

        meta = read.head_of(f"<head>{snippets['meta']}</head>").meta
        assert meta["tdm-reservation"] == [headers["tdm-reservation"]]
        assert ("robots" in meta) == (expected["train-genai"] != "allow")

        (rule,) = read.load_json(snippets["tdmrep"].encode())
        assert rule["tdm-reservation"] == (1 if reserved else 0)

        robots = robot_parser(snippets["robots"])
        training_free = expected["train-genai"] == "allow" and expected["train-ai"] == "allow"
        for agent in AI_CRAWLERS:
            assert robots.can_fetch(agent, "/my-novel/") == training_free, combo
        for group in robots_groups(snippets["robots"]):
            (usage,) = [v for k, v in group["rules"] if k == "content-usage"]
            assert read.content_usage(usage) == read.content_usage(headers["Content-Usage"])
        # Content Signals: ai-train is "training or fine-tuning AI models", any model.
        for agent in [AI_CRAWLERS[0], "SomeSearchBot"]:
            assert read.content_signal(snippets["robots"], agent, "https://alice.example/") == {
                "search": expected["search"] == "allow",
                "ai_input": expected["ai-input"] == "allow",
                "ai_train": training_free,
            }, combo

        entries = read.c2pa_training_mining(snippets["c2pa"].encode())
        assert {label: read.cawg_choice(entry) for label, entry in entries.items()} == {
            "cawg.ai_generative_training": expected["train-genai"],
            "cawg.ai_training": expected["train-ai"],
            "cawg.data_mining": expected["train-ai"],
            "cawg.ai_inference": expected["ai-input"],
        }

        ai_txt = robot_parser(snippets["ai_txt"])
        assert ai_txt.can_fetch("AnyDatasetBuilder", "/") == (expected["train-genai"] == "allow")
