"""The conflict pages: the staff queue and detail (only for those a conflict is routed to),
resolving and lifting a block through the forms, both works' files for the handling staff, and
the note on each creator's own work page — which never shows the other side."""

from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.storage import download
from tests.works import files
from tests.works.conflicting import (  # noqa: F401 - fixtures
    fellow_fixture,
    loner_fixture,
    register,
)
from works.models import Conflict, Work


@pytest.fixture
def across(creator, other_creator):
    """Alice's verified novel, and Bob's later registration with the same ISBN: across guilds,
    so routed to superusers."""
    mine = register(creator, "The Quiet Harbour", isbn="9780306406157")
    Work.objects.filter(pk=mine.pk).update(claim_state="verified", claim_decided_at=timezone.now())
    register(other_creator, "Bob's Harbour Tune", kind="recording", isbn="9780306406157")
    return Conflict.objects.get(work_a=mine)


@pytest.fixture
def within(creator, fellow, tmp_path, django_capture_on_commit_callbacks):
    """Alice's photograph and Fiona's identical copy: within the Writers' Guild."""
    path = files.make_jpeg(tmp_path / "pier.jpg", size=(640, 480), seed=8)
    with django_capture_on_commit_callbacks(execute=True):
        register(creator, "Pier at Dawn", kind="photograph", upload_path=path)
    copy = files.make_jpeg(tmp_path / "copy.jpg", size=(640, 480), seed=8)
    with django_capture_on_commit_callbacks(execute=True):
        theirs = register(fellow, "Morning Pier", kind="photograph", upload_path=copy)
    return Conflict.objects.get(work_b=theirs)


def url(name, conflict, *args):
    return reverse(f"works:{name}", args=[conflict.pk, *args])


# --- The queue ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["creator", "other_creator", "charlie"])
def test_the_queue_is_for_staff_only(client, request, persona, across):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("works:conflict-queue")).status_code == HTTPStatus.FORBIDDEN


def test_superusers_see_conflicts_across_guilds(client, superuser, across):
    client.force_login(superuser)
    page = client.get(reverse("works:conflict-queue")).content.decode()
    assert url("conflict-detail", across) in page
    assert "The Quiet Harbour" in page and "The same ISBN" in page
    assert reverse("works:conflict-queue") in page  # the header's "Conflicts" link


def test_guild_staff_see_their_guilds_conflicts_and_no_others(
    client, guild_staff, other_guild_staff, within, across
):
    client.force_login(guild_staff)
    page = client.get(reverse("works:conflict-queue")).content.decode()
    assert url("conflict-detail", within) in page
    assert url("conflict-detail", across) not in page

    client.force_login(other_guild_staff)
    page = client.get(reverse("works:conflict-queue")).content.decode()
    assert "No conflicting works are waiting for you" in page


def test_resolved_conflicts_are_listed_apart(client, superuser, across):
    client.force_login(superuser)
    client.post(
        url("conflict-resolve", across),
        {"resolve-resolution": "both_stand", "resolve-reason": "Book and song."},
    )
    assert (
        "No conflicting works are waiting"
        in client.get(reverse("works:conflict-queue")).content.decode()
    )
    page = client.get(reverse("works:conflict-queue") + "?show=resolved").content.decode()
    assert url("conflict-detail", across) in page and "Both claims stand" in page


# --- One conflict ------------------------------------------------------------------------------


def test_handling_staff_see_both_sides(client, superuser, across, creator, other_creator):
    client.force_login(superuser)
    response = client.get(url("conflict-detail", across))
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    for text in ("The Quiet Harbour", "Bob's Harbour Tune", creator.email, other_creator.email):
        assert text.replace("'", "&#x27;") in page
    assert "9780306406157" in page and "Lift the block" in page
    assert 'name="resolve-resolution"' in page and 'name="resolve-reason"' in page


@pytest.mark.parametrize("persona", ["creator", "other_creator", "guild_staff", "charlie"])
def test_everyone_else_gets_404_on_a_conflict(client, request, persona, across):
    client.force_login(request.getfixturevalue(persona))
    for name in ("conflict-detail",):
        assert client.get(url(name, across)).status_code == HTTPStatus.NOT_FOUND
    for name in ("conflict-resolve", "conflict-lift-block"):
        response = client.post(url(name, across), {"resolve-reason": "x", "lift-reason": "x"})
        assert response.status_code == HTTPStatus.NOT_FOUND
    assert client.get(url("conflict-file", across, "a", "original")).status_code == 404
    assert Conflict.objects.get().status == "open"


def test_staff_of_another_guild_get_404(client, other_guild_staff, superuser, within):
    for outsider in (other_guild_staff, superuser):  # routed to the Writers' Guild only
        client.force_login(outsider)
        assert client.get(url("conflict-detail", within)).status_code == HTTPStatus.NOT_FOUND


def test_handling_staff_open_both_thumbnails_and_originals(client, guild_staff, within):
    client.force_login(guild_staff)
    page = client.get(url("conflict-detail", within)).content.decode()
    for side in ("a", "b"):
        assert url("conflict-file", within, side, "thumbnail") in page
        thumbnail = client.get(url("conflict-file", within, side, "thumbnail"))
        assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"
        original = download(client, url("conflict-file", within, side, "original"))
        assert original.status == 200
        assert original.headers["Content-Disposition"].startswith("attachment")
    assert client.get(url("conflict-file", within, "c", "original")).status_code == 404
    assert client.get(url("conflict-file", within, "a", "evidence")).status_code == 404
    # Handling a conflict opens nothing else of the creators'.
    work = within.work_a
    assert client.get(reverse("works:original", args=[work.public_id])).status_code == 404


def test_resolving_through_the_form(client, superuser, across, mailoutbox):
    client.force_login(superuser)
    response = client.post(
        url("conflict-resolve", across),
        {"resolve-resolution": "a_stands", "resolve-reason": "The publisher confirmed Alice."},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("works:conflict-queue")
    across.refresh_from_db()
    assert across.resolution == "a_stands"
    assert Work.objects.get(pk=across.work_b_id).claim_state == "rejected"


def test_a_resolution_without_reason_is_refused_with_a_message(client, superuser, across):
    client.force_login(superuser)
    response = client.post(url("conflict-resolve", across), {"resolve-resolution": "a_stands"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Say why: both creators will read it." in response.content.decode()
    across.refresh_from_db()
    assert across.status == "open"


def test_lifting_the_block_through_the_form(client, superuser, across, other_creator):
    later = Work.objects.get(pk=across.work_b_id)
    from works.conflicts import work_is_blocked

    assert work_is_blocked(later)
    client.force_login(superuser)
    response = client.post(url("conflict-lift-block", across), {"lift-reason": ""})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    response = client.post(url("conflict-lift-block", across), {"lift-reason": "Urgent takedown."})
    assert response.status_code == HTTPStatus.FOUND
    assert not work_is_blocked(later)
    page = client.get(url("conflict-detail", across)).content.decode()
    assert "Block lifted" in page and "Urgent takedown." in page


# --- The creators' side ----------------------------------------------------------------------


def test_each_creator_sees_a_note_but_nothing_of_the_other_side(
    client, creator, other_creator, across
):
    mine, theirs = across.work_a, across.work_b
    for owner, work, other in ((creator, mine, theirs), (other_creator, theirs, mine)):
        client.force_login(owner)
        page = client.get(reverse("works:detail", args=[work.public_id])).content.decode()
        assert "A possible conflict" in page
        assert "the same ISBN" in page and "9780306406157" in page
        assert "The portal's administrators will look into it" in page
        assert other.title.replace("'", "&#x27;") not in page
        assert other.owner.email not in page and other.owner.label not in page
        assert other.public_id not in page
    # Only the later registration is held up: the earlier claim is verified.
    client.force_login(other_creator)
    page = client.get(reverse("works:detail", args=[theirs.public_id])).content.decode()
    assert "removal requests for this work are on hold" in page


def test_a_creator_cannot_open_the_other_work(client, other_creator, across):
    client.force_login(other_creator)
    public_id = across.work_a.public_id
    for name in ("works:detail", "works:thumbnail", "works:original"):
        assert client.get(reverse(name, args=[public_id])).status_code == HTTPStatus.NOT_FOUND


def test_the_note_shows_the_outcome_once_resolved(
    client, creator, other_creator, superuser, across
):
    client.force_login(superuser)
    client.post(
        url("conflict-resolve", across),
        {"resolve-resolution": "a_stands", "resolve-reason": "Harbour Press contract."},
    )
    client.force_login(other_creator)
    page = client.get(reverse("works:detail", args=[across.work_b.public_id])).content.decode()
    assert "Your claim to this work was rejected." in page and "Harbour Press contract." in page
    client.force_login(creator)
    page = client.get(reverse("works:detail", args=[across.work_a.public_id])).content.decode()
    assert "Your claim stands." in page


def test_a_work_without_conflicts_has_no_note(client, creator, work):
    client.force_login(creator)
    page = client.get(reverse("works:detail", args=[work.public_id])).content.decode()
    assert "possible conflict" not in page.lower() and "conflicts.css" not in page


def test_the_file_panel_alone_does_not_read_conflicts(
    client, creator, across, django_assert_max_num_queries
):
    client.force_login(creator)
    public_id = across.work_a.public_id
    with django_assert_max_num_queries(8):
        client.get(reverse("works:file-status", args=[public_id]))


def test_the_conflict_pages_are_in_the_header_for_staff_only(client, creator, guild_staff, work):
    client.force_login(creator)
    page = client.get(reverse("works:detail", args=[work.public_id])).content.decode()
    assert reverse("works:conflict-queue") not in page
    client.force_login(guild_staff)
    page = client.get(reverse("works:claim-queue")).content.decode()
    assert f'href="{reverse("works:conflict-queue")}"' in page


def test_a_creator_without_guild_is_told_administrators_look(client, loner, creator):
    register(creator, "First", doi="10.1000/182")
    theirs = register(loner, "Second", doi="10.1000/182")
    client.force_login(loner)
    page = client.get(reverse("works:detail", args=[theirs.public_id])).content.decode()
    assert "administrators will look into it" in page and "First" not in page


def test_a_creator_is_told_their_guilds_staff_look_within_a_guild(
    client, creator, within, django_assert_max_num_queries
):
    client.force_login(creator)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("works:detail", args=[within.work_a.public_id])).content.decode()
    assert "Staff of your guild will look into it" in page
    assert "a very similar image" in page and "Morning Pier" not in page
    assert "on hold" not in page  # the earlier work is never held up
