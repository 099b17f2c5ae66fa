"""Issue 19 on "Register a work": the web addresses field reports every bad line, not the
first; a work already in the creator's own catalogue (an identifier or the same file) is said
and linked, with "Register anyway"; a chosen file survives an error elsewhere in the form."""

from http import HTTPStatus

from django.urls import reverse

from tests.htmltree import parse
from works.models import Work


def test_every_bad_web_address_is_reported_with_its_line(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("works:create"),
        {
            "title": "Op-ed",
            "kind": "article",
            "url": "https://news.example/a\njavascript:alert(1)\nnews.example/b\nhttps://exa_mple..com/\n",
        },
    )
    assert response.status_code == HTTPStatus.OK
    page = parse(response.content)
    errors = [li.text() for li in page.by_id("id_url_error").find_all("li")]
    assert len(errors) == 2
    assert errors[0].startswith("Line 2: “javascript:alert(1)”: Only web addresses")
    assert errors[1].startswith("Line 4: “https://exa_mple..com/”: The site name")
    # Each is its own link in the summary, and the typed text is kept.
    summary = [a.text() for a in page.find(data_error_summary=True).find_all("a")]
    assert [s.split(":")[1].strip() for s in summary] == ["Line 2", "Line 4"]
    assert "news.example/b" in page.by_id("id_url").text()
    assert not Work.objects.exists()


def test_every_bad_isbn_is_reported(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("works:create"),
        {"title": "Two", "kind": "book", "isbn": "978-0-306-40615-8 0306406152 12345"},
    )
    errors = [li.text() for li in parse(response.content).by_id("id_isbn_error").find_all("li")]
    assert len(errors) == 2
    assert errors[0].startswith("“978-0-306-40615-8”") and errors[1].startswith("“12345”")
