"""One work's published object, for ``GET /api/v1/works/<public_id>``, in one SQL
query instead of ``lookup.work_objects``' six ORM ones: that endpoint is called once per item
by pipelines, and building and compiling ORM queries was most of its cost (docs/benchmarks.md,
"Registry API").

The answer is the same object ``work_objects`` builds, from the same rules
(``consent.decisions.decisions_resolve``, ``consent.digests.work_object``, and the public
signals from ``consent.signals.public_signals``); a test compares the two for every source a
decision can have. It is read in one statement (``_SQL``): the work with
its owner's credit and display name, its identifiers, the owner's defaults, the work's
overrides and, with a developer, that developer's grants from the owner in force today and
whether each names this work.
"""

import json
from types import SimpleNamespace

from django.db import connection
from django.utils import timezone

from consent.decisions import decisions_resolve
from consent.digests import page_url_template, work_object
from consent.signals import public_signals

# One statement, one round trip: a row for the work, then one for each of its identifiers (by
# scheme, then as entered), each of the owner's defaults, each of the work's overrides, and each
# grant in force today from the owner to the developer asked about (none when there is none).
# Every part finds the work by its public id (unique index); columns: part, id, eight values
# whose meaning depends on the part, and what orders rows within a part (then the id).
_WORK, _IDENTIFIER, _DEFAULT, _OVERRIDE, _GRANT = range(5)
_SQL = f"""
SELECT {_WORK}, w.id, w.owner_id, w.public_id, w.title, w.kind, w.status, w.claim_state,
       p.credit_name, p.display_name, ''
  FROM works_work w
  LEFT JOIN accounts_creatorprofile p ON p.user_id = w.owner_id
 WHERE w.public_id = %(public_id)s
UNION ALL
SELECT {_IDENTIFIER}, i.id, NULL, i.scheme, i.value, NULL, NULL, NULL, NULL, NULL, i.scheme
  FROM works_workidentifier i
  JOIN works_work w ON w.id = i.work_id
 WHERE w.public_id = %(public_id)s
UNION ALL
SELECT {_DEFAULT}, f.id, NULL, f.use, f.choice, NULL, NULL, NULL, NULL, NULL, ''
  FROM consent_preference f
  JOIN works_work w ON f.owner_id = w.owner_id AND f.work_id IS NULL
 WHERE w.public_id = %(public_id)s
UNION ALL
SELECT {_OVERRIDE}, f.id, NULL, f.use, f.choice, NULL, NULL, NULL, NULL, NULL, ''
  FROM consent_preference f
  JOIN works_work w ON f.work_id = w.id
 WHERE w.public_id = %(public_id)s
UNION ALL
SELECT {_GRANT}, g.id, CASE WHEN g.all_works THEN 1 ELSE 0 END, CAST(g.uses AS TEXT),
       g.licence_ref,
       CASE WHEN EXISTS (SELECT 1 FROM consent_licencegrant_works gw
                          WHERE gw.licencegrant_id = g.id AND gw.work_id = w.id)
            THEN 'named' ELSE '' END,
       NULL, NULL, NULL, NULL, ''
  FROM consent_licencegrant g
  JOIN works_work w ON g.owner_id = w.owner_id
 WHERE w.public_id = %(public_id)s AND g.developer_id = %(developer)s
   AND g.revoked_at IS NULL AND g.starts_on <= %(today)s
   AND (g.ends_on IS NULL OR g.ends_on >= %(today)s)
 ORDER BY 1, 11, 2
"""


def one_work_object(public_id: str, *, developer=None) -> dict | None:
    """The object of the work ``public_id`` with each decision for ``developer`` (None: the
    public decision), or None when no work has that public id."""
    today = timezone.localdate()
    developer_id = developer.pk if developer is not None else None
    with connection.cursor() as cursor:
        cursor.execute(_SQL, {"public_id": public_id, "developer": developer_id, "today": today})
        rows = cursor.fetchall()
    if not rows or rows[0][0] != _WORK:
        return None
    _, work_id, _, public_id, title, kind, status, claim_state, credit, display, _ = rows[0]
    identifiers: list[str] = []
    found: dict[int, dict[str, str]] = {_DEFAULT: {}, _OVERRIDE: {}}
    grants = []
    for part, row_id, number, name, value, named, *_ in rows[1:]:
        if part == _IDENTIFIER:
            identifiers.append(f"{name}:{value}")
        elif part == _GRANT:
            grant = SimpleNamespace(
                pk=row_id, all_works=bool(number), uses=json.loads(name), licence_ref=value
            )
            grants.append((grant, {work_id} if named else set()))
        else:
            found[part][name] = value
    public = decisions_resolve(
        work_id=work_id, defaults=found[_DEFAULT], overrides=found[_OVERRIDE], grants=[]
    )
    decisions = public
    if grants:
        decisions = decisions_resolve(
            work_id=work_id, defaults=found[_DEFAULT], overrides=found[_OVERRIDE], grants=grants
        )
    fields = {
        "public_id": public_id,
        "title": title,
        "kind": kind,
        "status": status,
        "claim_state": claim_state,
        "owner__creator_profile__credit_name": credit,
        "owner__creator_profile__display_name": display,
    }
    work = work_object(fields, decisions, identifiers, page_url=page_url_template())
    work["signals"] = public_signals(public)
    return work
