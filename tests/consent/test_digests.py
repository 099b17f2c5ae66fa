"""Consent digests: per AI developer and period, the works whose effective decision *for that
developer* changed, with the ledger hashes — as a notice with JSON and CSV attachments (or a link
to the full export when there are too many), sent once per period, and a full export behind the
organisation's sign-in or API key."""

import csv
import io
import json
import logging
from datetime import UTC, date, datetime, time, timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone as dj_timezone

from consent import digests, services
from consent.models import LedgerEntry, LicenceGrant
from notices.models import AIDeveloper, Notice
from notices.services import api_key_create, api_key_revoke
from tests import factories
from tests.services import wait_for
from works.models import Work

DAY = date(2026, 11, 18)  # a Wednesday of ISO week 2026-W47; London is on UTC in November
PERIOD = digests.period_of_day(DAY)
AFTER = PERIOD.end + timedelta(hours=1)  # when the hourly run builds the digest of DAY
LONG_AGO = PERIOD.start - timedelta(days=60)


class Clock:
    """``timezone.now()`` for the portal's code, set by the test (ledger entries, grants,
    revocations and preferences are stamped with it)."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: date, hour: int = 10, minute: int = 0) -> "Clock":
        self.now = datetime.combine(day, time(hour, minute), tzinfo=UTC)
        return self


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(datetime.combine(DAY, time(10), tzinfo=UTC))
    monkeypatch.setattr(dj_timezone, "now", clock)
    return clock


@pytest.fixture
def labs(db):
    """Example AI Labs: daily digest, one confirmed contact."""
    developer = factories.AIDeveloperFactory(
        name="Example AI Labs", slug="example-ai-labs", digest_frequency="daily"
    )
    factories.DeveloperContactFactory(developer=developer, email="legal@labs.example")
    return developer


@pytest.fixture
def rival(db):
    """Rival Models: daily digest too, and no licence from anyone."""
    developer = factories.AIDeveloperFactory(
        name="Rival Models", slug="rival-models", digest_frequency="daily"
    )
    factories.DeveloperContactFactory(developer=developer, email="legal@rival.example")
    return developer


@pytest.fixture
def dana(labs):
    return factories.DeveloperMemberFactory(developer=labs, user__email="dana@labs.example").user


@pytest.fixture
def oscar(rival):
    return factories.DeveloperMemberFactory(developer=rival, user__email="oscar@rival.example").user


def make_works(owner, n, **fields):
    """Works registered well before the period."""
    return [
        factories.WorkFactory(owner=owner, created_at=LONG_AGO, **{"title": f"Work {i}", **fields})
        for i in range(n)
    ]


def grant(owner, developer, *, works=None, uses=("train-genai",), ref="LIC-1", **dates):
    g = services.grant_create(
        actor=owner,
        owner=owner,
        developer=developer,
        uses=list(uses),
        licence_ref=ref,
        starts_on=dates.get("starts_on", DAY - timedelta(days=30)),
        ends_on=dates.get("ends_on"),
        works=works,
    )
    # ``created_at``'s default is bound to the real clock: stamp it with the test's.
    LicenceGrant.objects.filter(pk=g.pk).update(created_at=dj_timezone.now())
    g.refresh_from_db()
    return g


def build(developer, period=PERIOD) -> dict[str, dict]:
    digest = digests.digest_build(developer=developer, start=period.start, end=period.end)
    return {row["public_id"]: row for row in digest.rows()}


def notices_of(developer):
    return list(Notice.objects.filter(developer=developer))


def files_of(notice) -> dict[str, bytes]:
    return {a.filename: bytes(a.content) for a in notice.attachments.all()}


def parse_csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


# --- What is listed, for whom --------------------------------------------------------------------


def test_a_default_change_is_listed_except_where_the_developer_holds_a_grant(
    clock, creator, labs, rival
):
    licensed, other = make_works(creator, 2)
    clock.at(DAY - timedelta(days=1))
    services.defaults_set(
        actor=creator, owner=creator, choices={"train-genai": "allow", "train-ai": "allow"}
    )
    grant(creator, labs, works=[licensed])
    clock.at(DAY)
    entry = services.defaults_set(actor=creator, owner=creator, choices={"train-genai": "deny"})

    for_labs, for_rival = build(labs), build(rival)

    assert set(for_labs) == {other.public_id}  # its licence still holds for the licensed work
    assert set(for_rival) == {licensed.public_id, other.public_id}
    row = for_rival[licensed.public_id]
    assert row["changed_uses"] == ["train-genai"]
    assert row["decision"]["train-genai"] == {
        "choice": "deny",
        "source": "default",
        "licence_ref": "",
    }
    assert row["previous"]["train-genai"] == {
        "choice": "allow",
        "source": "default",
        "licence_ref": "",
    }
    assert row["decision"]["train-ai"] == row["previous"]["train-ai"]
    assert row["ledger"] == {
        "chain": str(creator.ref),
        "entries": [
            {
                "seq": entry.seq,
                "action": "default.set",
                "at": json.loads(entry.canonical)["at"],
                "hash": entry.hash,
            }
        ],
    }
    assert row["title"] == licensed.title and row["credit_name"] == "Alice Author"
    assert row["url"].endswith(f"/w/{licensed.public_id}/")


def test_a_grant_made_in_the_period_is_listed_for_its_developer_only(clock, creator, labs, rival):
    (work,) = make_works(creator, 1)
    factories.WorkIdentifierFactory(work=work, scheme="isbn", value="9780306406157")
    g = grant(creator, labs, works=[work], ref="LIC-42")
    entry = LedgerEntry.objects.get(canonical__contains='"action":"grant.create"')

    rows = build(labs)

    assert list(rows) == [work.public_id]
    row = rows[work.public_id]
    assert row["changed_uses"] == ["train-genai"]
    assert row["decision"]["train-genai"] == {
        "choice": "allow",
        "source": "grant",
        "licence_ref": "LIC-42",
    }
    assert row["previous"]["train-genai"]["choice"] == "deny"
    assert row["identifiers"] == ["isbn:9780306406157"]
    assert [e["hash"] for e in row["ledger"]["entries"]] == [entry.hash]
    assert build(rival) == {}

    clock.now = AFTER
    assert digests.digests_send() == 1
    assert notices_of(rival) == [] and len(notices_of(labs)) == 1
    attachment = notices_of(labs)[0].attachments.get(filename__endswith=".csv")
    assert g.licence_ref in bytes(attachment.content).decode()


def test_grants_revoked_ended_or_started_in_the_period_are_listed(clock, creator, labs):
    revoked_work, ending_work, starting_work, untouched = make_works(creator, 4)
    clock.at(DAY - timedelta(days=10))
    to_revoke = grant(creator, labs, works=[revoked_work], ref="LIC-R")
    grant(creator, labs, works=[ending_work], ref="LIC-E", ends_on=DAY - timedelta(days=1))
    grant(creator, labs, works=[starting_work], ref="LIC-S", starts_on=DAY)
    grant(creator, labs, works=[untouched], ref="LIC-U")
    clock.at(DAY)
    services.grant_revoke(actor=creator, grant=to_revoke)

    rows = build(labs)

    assert set(rows) == {revoked_work.public_id, ending_work.public_id, starting_work.public_id}
    revoked = rows[revoked_work.public_id]
    assert revoked["previous"]["train-genai"]["licence_ref"] == "LIC-R"
    assert revoked["decision"]["train-genai"]["source"] == "built-in"
    assert [e["action"] for e in revoked["ledger"]["entries"]] == ["grant.revoke"]
    # Their dates passed at midnight, before the beat wrote their entries: listed all the same.
    assert rows[ending_work.public_id]["previous"]["train-genai"]["licence_ref"] == "LIC-E"
    assert rows[ending_work.public_id]["decision"]["train-genai"]["choice"] == "deny"
    assert rows[starting_work.public_id]["decision"]["train-genai"]["licence_ref"] == "LIC-S"
    assert rows[starting_work.public_id]["previous"]["train-genai"]["choice"] == "deny"
    # Once the beat has written them (on DAY), their hashes are there too.
    clock.at(DAY, 11)
    services.grant_periods_record()
    rows = build(labs)
    actions = {pid: [e["action"] for e in r["ledger"]["entries"]] for pid, r in rows.items()}
    assert actions[ending_work.public_id] == ["grant.end"]
    assert actions[starting_work.public_id] == ["grant.start"]


def test_an_override_set_and_set_back_in_the_period_lists_nothing(clock, creator, labs):
    (work,) = make_works(creator, 1)
    services.override_set(actor=creator, work=work, choices={"ai-input": "allow"})
    clock.at(DAY, 15)
    services.override_set(actor=creator, work=work, choices={"ai-input": None})

    assert build(labs) == {}
    clock.now = AFTER
    assert digests.digests_send() == 0
    assert Notice.objects.count() == 0
    # The empty period is remembered: the next hourly run reads no ledger for it.
    with CaptureQueriesContext(connection) as queries:
        assert digests.digests_send() == 0
    assert not any("consent_ledgerentry" in q["sql"] for q in queries.captured_queries)


def test_credit_changes_new_works_and_other_developers_grants_list_nothing(
    clock, creator, labs, rival
):
    (work,) = make_works(creator, 1)
    services.credit_set(actor=creator, owner=creator, credit_line="© Alice Author")
    grant(creator, rival, works=[work])
    factories.WorkFactory(owner=creator, created_at=clock.now - timedelta(hours=1))
    services.bulk_apply(
        actor=creator,
        owner=creator,
        works=list(Work.objects.filter(owner=creator)),
        use="search",
        choice="allow",  # what they had already (the built-in default): no decision changes
    )
    assert build(labs) == {}


def test_another_developers_licence_is_not_among_the_hashes(clock, creator, labs, rival):
    (work,) = make_works(creator, 1)
    grant(creator, rival, works=[work])
    entry = services.override_set(actor=creator, work=work, choices={"ai-input": "allow"})
    row = build(labs)[work.public_id]
    assert [e["hash"] for e in row["ledger"]["entries"]] == [entry.hash]


def test_a_change_after_the_period_leaves_its_digest_as_it_was(clock, creator, labs):
    (work,) = make_works(creator, 1)
    services.override_set(actor=creator, work=work, choices={"style": "allow"})
    clock.at(DAY + timedelta(days=1))
    services.override_set(actor=creator, work=work, choices={"style": "licence"})
    clock.at(DAY + timedelta(days=2))
    services.defaults_set(actor=creator, owner=creator, choices={"style": "allow"})

    row = build(labs)[work.public_id]

    assert row["decision"]["style"]["choice"] == "allow"  # as at the end of DAY, not now
    assert row["previous"]["style"] == {"choice": "deny", "source": "built-in", "licence_ref": ""}


def test_archived_works_are_listed(clock, creator, labs):
    (work,) = make_works(creator, 1, status=Work.Status.ARCHIVED)
    services.defaults_set(actor=creator, owner=creator, choices={"ai-input": "licence"})
    assert build(labs)[work.public_id]["status"] == "archived"


def test_a_bulk_change_over_works_with_different_choices_is_listed_with_previous_unknown(
    clock, creator, labs
):
    allowed, denied, unset = make_works(creator, 3)
    clock.at(DAY - timedelta(days=1))
    services.override_set(actor=creator, work=allowed, choices={"train-ai": "allow"})
    services.override_set(actor=creator, work=denied, choices={"train-ai": "deny"})
    clock.at(DAY)
    services.bulk_apply(
        actor=creator, owner=creator, works=[allowed, denied, unset], use="train-ai", choice="deny"
    )

    rows = build(labs)

    # ``denied`` is not in the entry (it had deny already); the ledger cannot tell which of the
    # other two had "allow" and which had nothing: both are listed, previous unknown.
    assert set(rows) == {allowed.public_id, unset.public_id}
    for row in rows.values():
        assert row["previous"]["train-ai"] is None
        assert "train-ai" in row["changed_uses"]
        assert row["decision"]["train-ai"] == {
            "choice": "deny",
            "source": "override",
            "licence_ref": "",
        }
        assert row["previous"]["search"] is not None  # the other uses are known
    table = parse_csv("".join(digests.csv_document(rows.values())).encode())
    assert [line["train-ai_previous"] for line in table] == ["unknown", "unknown"]
    assert [line["search_previous"] for line in table] == ["allow", "allow"]


def test_a_bulk_change_from_one_previous_choice_is_exact(clock, creator, labs):
    works = make_works(creator, 3)
    services.bulk_apply(actor=creator, owner=creator, works=works, use="search", choice="deny")
    rows = build(labs)
    assert len(rows) == 3
    assert {r["previous"]["search"]["choice"] for r in rows.values()} == {"allow"}


# --- Sending -----------------------------------------------------------------------------------


@pytest.fixture
def changed(clock, creator, labs):
    """Three works of Alice's whose train-genai decision changed on DAY; one has a title that a
    spreadsheet would take for a formula, and identifiers."""
    works = make_works(creator, 3)
    Work.objects.filter(pk=works[0].pk).update(title='=HYPERLINK("http://evil.example","x")')
    factories.WorkIdentifierFactory(work=works[1], scheme="isbn", value="9780306406157")
    factories.WorkIdentifierFactory(work=works[1], scheme="doi", value="10.1000/182")
    services.defaults_set(
        actor=creator, owner=creator, choices={"train-genai": "licence", "train-ai": "licence"}
    )
    clock.now = AFTER
    return works


def test_the_json_and_csv_attachments_parse_and_agree(changed, labs):
    assert digests.digests_send() == 1
    notice = Notice.objects.get(developer=labs)
    assert notice.key == notice.topic == f"digest:{labs.pk}:2026-11-18"
    assert not notice.answerable
    files = files_of(notice)
    assert set(files) == {
        "consent-digest-example-ai-labs-2026-11-18.json",
        "consent-digest-example-ai-labs-2026-11-18.csv",
    }
    document = json.loads(files["consent-digest-example-ai-labs-2026-11-18.json"])
    table = parse_csv(files["consent-digest-example-ai-labs-2026-11-18.csv"])

    assert document["period"]["label"] == "2026-11-18"
    assert document["period"]["start"] == "2026-11-18T00:00:00+00:00"
    assert document["works_count"] == 3 == len(document["works"]) == len(table)
    entry = LedgerEntry.objects.get()
    for work, line in zip(document["works"], table, strict=True):
        assert line["public_id"] == work["public_id"]
        assert line["url"] == work["url"] and line["claim_state"] == work["claim_state"]
        assert line["identifiers"] == " ".join(work["identifiers"])
        assert line["train-genai"] == work["decision"]["train-genai"]["choice"] == "licence"
        assert line["train-genai_previous"] == work["previous"]["train-genai"]["choice"] == "deny"
        assert line["ledger_hashes"] == entry.hash == work["ledger"]["entries"][0]["hash"]
        if work["title"].startswith("="):
            assert line["title"] == "'" + work["title"]  # shown as text, never run
        else:
            assert line["title"] == work["title"]
    assert "doi:10.1000/182 isbn:9780306406157" in {line["identifiers"] for line in table}
    assert "3 works" in notice.subject and "18 November 2026" in notice.subject
    assert "3 works had their effective decision for Example AI Labs changed" in notice.text
    assert "consent-digest-example-ai-labs-2026-11-18.csv" in notice.text


def test_a_period_is_sent_once_even_by_two_runs_at_the_same_time(changed, labs, monkeypatch):
    assert digests.digests_send() == 1
    assert digests.digests_send() == 0
    # Two runs that both looked before either wrote: the key still makes one notice.
    monkeypatch.setattr(digests.send, "_already_done", lambda key: False)
    period = digests.period_latest("daily", AFTER)
    first = digests.digest_send(developer=labs, period=period)
    second = digests.digest_send(developer=labs, period=period)
    assert first.pk == second.pk
    assert Notice.objects.filter(developer=labs).count() == 1


def test_the_hourly_beat_task_sends_the_digests(changed, labs, settings):
    from consent import tasks

    assert settings.CELERY_BEAT_SCHEDULE["consent-digests"]["task"] == tasks.digests_send.name
    assert tasks.digests_send.delay().get() == 1
    assert Notice.objects.get().key.endswith(":2026-11-18")


def test_no_digest_when_the_frequency_is_off_or_the_developer_inactive(changed, labs, rival):
    AIDeveloper.objects.filter(pk=labs.pk).update(digest_frequency="off")
    AIDeveloper.objects.filter(pk=rival.pk).update(is_active=False)
    assert digests.digests_send() == 0
    assert Notice.objects.count() == 0


def test_a_failure_for_one_developer_does_not_stop_the_others(
    changed, labs, rival, monkeypatch, caplog
):
    real = digests.send.digest_build

    def failing(*, developer, **kwargs):
        if developer.pk == labs.pk:
            raise RuntimeError("boom")
        return real(developer=developer, **kwargs)

    monkeypatch.setattr(digests.send, "digest_build", failing)
    with caplog.at_level(logging.ERROR, logger="consent.digests"):
        assert digests.digests_send() == 1
    assert notices_of(labs) == [] and len(notices_of(rival)) == 1
    assert "example-ai-labs" in caplog.text
    monkeypatch.setattr(digests.send, "digest_build", real)
    assert digests.digests_send() == 1  # the next run sends what failed
    assert len(notices_of(labs)) == 1


def test_a_weekly_digest_covers_the_previous_iso_week(clock, creator, labs):
    labs.digest_frequency = "weekly"
    labs.save()
    sunday_work, monday_work = make_works(creator, 2)
    clock.now = datetime(2026, 11, 22, 23, 59, 59, 999999, tzinfo=UTC)  # Sunday of W47
    services.override_set(actor=creator, work=sunday_work, choices={"ai-input": "allow"})
    clock.now = datetime(2026, 11, 23, tzinfo=UTC)  # Monday 00:00: W48 has begun
    services.override_set(actor=creator, work=monday_work, choices={"ai-input": "allow"})

    clock.now = datetime(2026, 11, 23, 0, 4, tzinfo=UTC)  # too early: not settled yet
    assert digests.digests_send() == 0
    clock.now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert digests.digests_send() == 1
    notice = Notice.objects.get()
    assert notice.key.endswith(":2026-W47") and notice.key.startswith("digest:")
    document = json.loads(files_of(notice)["consent-digest-example-ai-labs-2026-W47.json"])
    assert [w["public_id"] for w in document["works"]] == [sunday_work.public_id]
    assert document["period"] == {
        "label": "2026-W47",
        "frequency": "weekly",
        "start": "2026-11-16T00:00:00+00:00",
        "end": "2026-11-23T00:00:00+00:00",
    }
    assert "week 2026-W47, Monday 16 November 2026 to Sunday 22 November 2026" in notice.text
    assert list(build(labs, digests.period_of_week(2026, 48))) == [monday_work.public_id]


@pytest.mark.parametrize(
    ("frequency", "now", "label"),
    [
        ("daily", datetime(2026, 11, 26, 0, 0, tzinfo=UTC), "2026-11-25"),
        ("daily", datetime(2026, 11, 25, 23, 59, tzinfo=UTC), "2026-11-24"),
        ("daily", datetime(2027, 1, 1, 0, 30, tzinfo=UTC), "2026-12-31"),
        ("weekly", datetime(2026, 11, 23, 0, 0, tzinfo=UTC), "2026-W47"),
        ("weekly", datetime(2026, 11, 22, 23, 59, tzinfo=UTC), "2026-W46"),
        ("weekly", datetime(2026, 11, 29, 12, 0, tzinfo=UTC), "2026-W47"),
        ("weekly", datetime(2027, 1, 4, 0, 30, tzinfo=UTC), "2026-W53"),
        ("weekly", datetime(2027, 1, 3, 12, 0, tzinfo=UTC), "2026-W52"),
    ],
)
def test_the_latest_complete_period(frequency, now, label):
    period = digests.period_latest(frequency, now)
    assert period.label == label and period.end <= now
    assert digests.period_parse(label) == period
    assert period.end - period.start == timedelta(days=1 if frequency == "daily" else 7)
    assert period.start.weekday() == 0 or frequency == "daily"


@pytest.mark.parametrize(
    "label", ["2026-02-30", "2026-11-5", "2025-W53", "2026-W00", "2026-w47", "latest", "2026"]
)
def test_malformed_period_labels_are_refused(label):
    assert digests.period_parse(label) is None


# --- Too many works: a link to the full export ---------------------------------------------------


def test_over_the_limit_the_digest_links_to_the_full_export_which_streams_every_row(
    changed, labs, dana, client, settings
):
    settings.CONSENT_DIGEST_MAX_WORKS = 2
    assert digests.digests_send() == 1
    notice = Notice.objects.get(developer=labs)
    assert files_of(notice) == {}
    assert "more than 2 works, too many to attach" in notice.text
    path = reverse("consent:digest-csv", args=["example-ai-labs", "2026-11-18"])
    assert settings.SITE_URL + path in notice.text
    assert f'href="{settings.SITE_URL}{path}"' in notice.html

    client.force_login(dana)
    response = client.get(path)
    assert response.status_code == HTTPStatus.OK and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    table = parse_csv(b"".join(response.streaming_content))
    assert {line["public_id"] for line in table} == {w.public_id for w in changed}

    response = client.get(reverse("consent:digest-json", args=["example-ai-labs", "2026-11-18"]))
    document = json.loads(b"".join(response.streaming_content))
    assert document["works_count"] == 3


# --- Who may download the export -----------------------------------------------------------------


@pytest.fixture
def keys(labs, rival, dana, oscar):
    _, labs_key = api_key_create(actor=dana, developer=labs, name="CI")
    _, rival_key = api_key_create(actor=oscar, developer=rival, name="CI")
    revoked, revoked_key = api_key_create(actor=dana, developer=labs, name="Old")
    api_key_revoke(actor=dana, key=revoked)
    return {"labs": labs_key, "rival": rival_key, "revoked": revoked_key}


EXPORT = reverse("consent:digest-csv", args=["example-ai-labs", "2026-11-18"])


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("dana", HTTPStatus.OK),
        ("registry_manager", HTTPStatus.OK),
        ("superuser", HTTPStatus.OK),
        ("oscar", HTTPStatus.NOT_FOUND),
        ("creator", HTTPStatus.NOT_FOUND),
        ("guild_staff", HTTPStatus.NOT_FOUND),
        ("charlie", HTTPStatus.NOT_FOUND),
    ],
)
def test_the_export_is_for_the_organisations_people_and_registry_managers(
    changed, keys, client, request, who, status
):
    client.force_login(request.getfixturevalue(who))
    response = client.get(EXPORT)
    assert response.status_code == status
    if status == HTTPStatus.OK:
        assert len(parse_csv(b"".join(response.streaming_content))) == 3


@pytest.mark.parametrize(
    ("key", "status"),
    [
        ("labs", HTTPStatus.OK),
        ("rival", HTTPStatus.NOT_FOUND),
        ("revoked", HTTPStatus.UNAUTHORIZED),
        ("nonsense", HTTPStatus.UNAUTHORIZED),
    ],
)
def test_the_export_with_an_api_key(changed, keys, client, key, status):
    raw = keys.get(key, "ccp_0000_nope")
    response = client.get(EXPORT, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == status
    if status == HTTPStatus.OK:
        assert len(parse_csv(b"".join(response.streaming_content))) == 3
    else:
        assert response["Content-Type"] == "application/json"
        assert "error" in response.json()
    if status == HTTPStatus.UNAUTHORIZED:
        assert response["WWW-Authenticate"].startswith('Bearer realm="api"')


def test_anonymous_visitors_are_sent_to_sign_in(changed, client):
    response = client.get(EXPORT)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("period", ["2026-11-31", "2026-W60", "yesterday", "2026-11-19"])
def test_a_malformed_or_unfinished_period_is_not_found(changed, dana, client, period):
    client.force_login(dana)  # 2026-11-19 is still going on at AFTER
    response = client.get(reverse("consent:digest-csv", args=["example-ai-labs", period]))
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_another_organisation_by_slug_is_not_found_even_for_its_own_key(changed, keys, client):
    path = reverse("consent:digest-json", args=["rival-models", "2026-11-18"])
    response = client.get(path, headers={"Authorization": f"Bearer {keys['labs']}"})
    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.fixture
def api_limits(settings):
    from accounts import ratelimits

    settings.API_RATE_LIMIT_PER_KEY = "600/min"
    settings.API_RATE_LIMIT_PER_IP = "1200/min"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    ratelimits._paused_until = 0.0
    return settings


def _rate_limited(response, says: str):
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) >= 1
    assert response["Cache-Control"] == "no-store"
    assert response.json()["error"]["code"] == "rate_limited"
    assert says in response.json()["error"]["message"]


def test_the_export_with_a_key_counts_against_the_keys_api_limit(changed, keys, client, api_limits):
    api_limits.API_RATE_LIMIT_PER_KEY = "1/h"
    headers = {"Authorization": f"API {keys['labs']}"}  # the Spawning form works here too

    assert client.get(EXPORT, headers=headers).status_code == HTTPStatus.OK
    _rate_limited(client.get(EXPORT, headers=headers), "this key")
    # One budget for the key, whatever it calls.
    _rate_limited(client.get("/api/v1/notices", headers=headers), "this key")


def test_the_export_with_a_key_counts_against_the_addresss_api_limit(
    changed, keys, client, api_limits
):
    api_limits.API_RATE_LIMIT_PER_IP = "1/h"

    client.get("/api/v1/notices", headers={"Authorization": f"Bearer {keys['labs']}"})
    over = client.get(EXPORT, headers={"Authorization": f"Bearer {keys['labs']}"})
    _rate_limited(over, "this address")
    _rate_limited(client.get(EXPORT, headers={"Authorization": "Bearer nonsense"}), "address")


# --- The email -----------------------------------------------------------------------------------


@pytest.fixture
def smtp(settings, smtp_server):
    from notices.transports import EmailTransport

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield smtp_server
    EmailTransport()._drop_connection()


def test_the_delivered_email_carries_both_files_and_asks_for_no_answer(
    changed, labs, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert digests.digests_send() == 1

    (message,) = wait_for(lambda: smtp.messages, what="the digest email")
    assert message["To"] == "legal@labs.example"
    assert message["Subject"].startswith("Consent digest for 18 November 2026: 3 works")
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert set(files) == {
        "consent-digest-example-ai-labs-2026-11-18.json",
        "consent-digest-example-ai-labs-2026-11-18.csv",
    }
    document = files["consent-digest-example-ai-labs-2026-11-18.json"]
    document = json.loads(document if isinstance(document, bytes | str) else bytes(document))
    assert document["works_count"] == 3
    body = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "3 works had their effective decision" in body
    assert "<h2>How to read them</h2>" in html
    assert "/answer/" not in body and "/answer/" not in html


def test_html_in_titles_and_names_is_escaped_in_the_email(clock, creator, labs):
    AIDeveloper.objects.filter(pk=labs.pk).update(name="<b>Labs</b> & Co")
    make_works(creator, 1)
    services.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
    clock.now = AFTER
    digests.digests_send()
    notice = Notice.objects.get()
    assert "&lt;b&gt;Labs&lt;/b&gt; &amp; Co" in notice.html and "<b>Labs" not in notice.html
    assert "<b>Labs</b> & Co" in notice.text


# --- Cost ----------------------------------------------------------------------------------------


def test_building_takes_as_many_queries_for_200_works_as_for_10(clock, labs, wggb):
    counts = []
    for n, day in ((10, DAY), (200, DAY + timedelta(days=1))):
        alice = factories.UserFactory()
        bella = factories.UserFactory()
        alices, bellas = make_works(alice, n // 2), make_works(bella, n // 2)
        clock.at(day - timedelta(days=1))
        grant(bella, labs, works=bellas[:3], uses=["style"])
        clock.at(day)
        services.defaults_set(actor=alice, owner=alice, choices={"ai-input": "allow"})
        services.bulk_apply(actor=bella, owner=bella, works=bellas, use="search", choice="deny")
        services.override_set(actor=bella, work=bellas[0], choices={"style": "licence"})
        for work in alices[:5] + bellas[:5]:
            factories.WorkIdentifierFactory(work=work)
        with CaptureQueriesContext(connection) as queries:
            rows = build(labs, digests.period_of_day(day))
        assert len(rows) == n
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 10


def test_renaming_the_developer_does_not_send_a_period_again(changed, labs):
    assert digests.digests_send() == 1
    labs.slug, labs.name = "labs-renamed", "Renamed Labs"
    labs.save()

    assert digests.digests_send() == 0
    assert Notice.objects.filter(developer=labs).count() == 1
