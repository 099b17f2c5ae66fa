"""A creator, in a real browser, changes a default and overrides one work; the public page of
that work then sends different machine-readable signals — headers AI crawlers read — at once.
Every page they visit passes an accessibility audit."""

import re

import http_sf

from tests import factories


def public_headers(page, live_server, work):
    response = page.request.get(f"{live_server.url}/w/{work.public_id}/")
    assert response.status == 200
    return response.headers  # Playwright lower-cases names; the raw names are tested elsewhere


def content_usage(headers) -> dict[str, str]:
    """The Content-Usage header read back with an RFC 9651 parser: {"train-ai": "n", …}
    (aipref vocab-08: train-ai, ai-use, search)."""
    parsed = http_sf.parse(headers["content-usage"].encode(), tltype="dictionary")
    return {key: str(item) for key, (item, _params) in parsed.items()}


def test_changing_choices_changes_the_public_signals_at_once(
    live_server, browser_sign_in, page, audit, creator
):
    novel = factories.WorkFactory(owner=creator, title="The Quiet Harbour", kind="book")
    poem = factories.WorkFactory(owner=creator, title="Low Tide", kind="poem")

    # Nothing said yet: every AI use reserved, search allowed.
    before = public_headers(page, live_server, novel)
    assert before["x-robots-tag"] == "noai, noimageai"
    assert content_usage(before) == {"train-ai": "n", "ai-use": "n", "search": "y"}

    browser_sign_in(page, creator)

    # Their default: generative training allowed (and training any AI, which it is a kind of).
    page.goto(live_server.url + "/consent/")
    audit(page)
    page.get_by_role("group", name=re.compile("^Training generative AI", re.I)).get_by_role(
        "radio", name=re.compile("^Allowed", re.I)
    ).check()
    page.get_by_role("group", name=re.compile("^Training any AI model", re.I)).get_by_role(
        "radio", name=re.compile("^Allowed", re.I)
    ).check()
    page.get_by_role("button", name=re.compile("save my defaults", re.I)).click()
    page.get_by_text(re.compile("saved", re.I)).first.wait_for()
    audit(page)

    # …except the poem, which they keep out of generative training.
    page.goto(live_server.url + f"/consent/works/{poem.public_id}/")
    audit(page)
    page.get_by_role("group", name=re.compile("^Training generative AI", re.I)).get_by_role(
        "radio", name=re.compile("^Not allowed", re.I)
    ).check()
    page.get_by_role("button", name=re.compile("save the choices for this work", re.I)).click()
    page.get_by_text(re.compile("saved", re.I)).first.wait_for()
    audit(page)

    novel_headers = public_headers(page, live_server, novel)
    poem_headers = public_headers(page, live_server, poem)
    assert "x-robots-tag" not in novel_headers  # generative training allowed now
    assert poem_headers["x-robots-tag"] == "noai, noimageai"
    assert content_usage(novel_headers) == {"train-ai": "y", "ai-use": "n", "search": "y"}
    assert content_usage(poem_headers) == {"train-ai": "n", "ai-use": "n", "search": "y"}

    # The public page says the same in words, for people.
    page.goto(live_server.url + f"/w/{poem.public_id}/")
    assert page.get_by_text(
        "AI companies may not train generative models on this poem."
    ).is_visible()
    audit(page)
    assert not page.console_errors, page.console_errors
