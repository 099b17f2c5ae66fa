"""Benchmark data for the works registry: ``build`` fills a PostgreSQL database with N works
(default 1,000,000) server-side, and ``sample`` returns a realistic mixed list of lookup items
(hits and misses) for them. Not a benchmark itself (the leading ``_`` keeps it out of ``make
bench``); ``bench/registry_lookup.py`` uses it, and ``python -m bench._registry_data [N]`` times
a build in a scratch database (docs/benchmarks.md, "Registry data").

Everything is a function of the work's number ``g`` (1 … N), so ``sample`` knows the stored
values without reading the database:

- owners: ``owners_for(N)`` creators (3,000 for a million works; at least 1), each with a
  profile (display and credit name ``Bench Creator <o>``, ``creator_name(o)``, kept folded in
  ``accounts.CreatorName`` as the portal keeps it; website ``https://creator<o>.example``);
  work ``g`` belongs to creator ``o = g mod owners + 1``;
- works: public id ``Bench`` + ``g`` in 11 digits; title ``Bench work <g>`` (``title(g)``,
  with its ``title_folded``); kinds in turn; every 50th archived; every 3rd verified, every
  97th rejected, the others self-declared;
- identifiers, in the stored (normalised) form, with valid check digits: every work a URL
  ``https://creator<o>.example/works/<g>``, and by ``g mod 4`` an ISBN-13 (978 + g), an ISRC
  (``QZB…``), an ISWC (``T`` + g + check digit) or a DOI (``10.5555/bench.<g>``);
- even ``g``: a ready image file with a SHA-256 (of ``bench-file-<g>``) and a pHash (64 bits
  of ``md5(g || 'phash')``, as bench/phash_index.py) with its index blocks;
- consent: creator defaults by ``o mod 4`` (0: training allowed, 1: training only under
  licence, 2: training denied outright, 3: none set — the vocabulary's defaults), overrides on
  every 20th work; credit preferences for even ``o``;
- the developer ``bench-ai-lab`` (``DEVELOPER_SLUG``) holds licence grants for
  ``train-genai``: all works of creators with ``o mod 8 = 1``, and every 7th work of creators
  with ``o mod 8 = 5``; ``other-ai-lab`` holds none.

``build`` needs PostgreSQL (``generate_series``, ``md5``, ``sha256``); ``postgres_or_skip``
says why not otherwise, for a benchmark's "skipped" row or a test's skip.
"""

import hashlib
import os
import random
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
DEFAULT_WORKS = 1_000_000
DEVELOPER_SLUG = "bench-ai-lab"
OTHER_DEVELOPER_SLUG = "other-ai-lab"
KINDS = (
    "book",
    "article",
    "script",
    "poem",
    "artwork",
    "photograph",
    "composition",
    "recording",
    "performance",
    "video",
    "other",
)


def owners_for(n: int) -> int:
    """How many creators own ``n`` works: a few thousand for a million, about 300 works each."""
    return max(1, min(3000, n // 300))


# --- The values of work g (Python mirrors of the SQL below; sample() relies on them) -----------


def public_id(g: int) -> str:
    return f"Bench{g:011d}"


def owner_of(g: int, owners: int) -> int:
    return g % owners + 1


def title(g: int) -> str:
    return f"Bench work {g}"


def creator_name(o: int) -> str:
    """Creator ``o``'s display and credit name (one folded name: ``bench creator <o>``)."""
    return f"Bench Creator {o}"


def url(g: int, owners: int) -> str:
    return f"https://creator{owner_of(g, owners)}.example/works/{g}"


def isbn(g: int) -> str:
    first12 = f"978{g:09d}"
    total = sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def isrc(g: int) -> str:
    return f"QZB{g // 10_000_000 % 100:02d}{g // 100_000 % 100:02d}{g % 100_000:05d}"


def iswc(g: int) -> str:
    digits = f"{g:09d}"
    total = 1 + sum(i * int(d) for i, d in enumerate(digits, start=1))
    return f"T{digits}{(10 - total % 10) % 10}"


def doi(g: int) -> str:
    return f"10.5555/bench.{g}"


SCHEME_OF = ("isbn", "isrc", "iswc", "doi")  # by g mod 4
_SCHEME_VALUE = {"isbn": isbn, "isrc": isrc, "iswc": iswc, "doi": doi}


def has_file(g: int) -> bool:
    return g % 2 == 0


def sha256(g: int) -> str:
    return hashlib.sha256(f"bench-file-{g}".encode()).hexdigest()


def phash(g: int) -> int:
    """Unsigned 64 bits; the column holds the same bits signed."""
    return int(hashlib.md5(f"{g}phash".encode()).hexdigest()[:16], 16)


# --- Building ----------------------------------------------------------------------------------

_CHECK_ISBN = (
    "mod(10 - mod((SELECT sum(substr(s, i, 1)::int * CASE WHEN mod(i, 2) = 0 THEN 3 ELSE 1 END)"
    " FROM generate_series(1, 12) i), 10), 10)"
)
_CHECK_ISWC = (
    "mod(10 - mod(1 + (SELECT sum(i * substr(s, i, 1)::int) FROM generate_series(1, 9) i), 10), 10)"
)
_PHASH_SQL = "('x' || substr(md5(g::text || 'phash'), 1, 16))::bit(64)::bigint"


def _statements(n: int, owners: int) -> list[tuple[str, str]]:
    """(what, SQL) in order; run on one connection (temporary tables)."""
    kinds = "ARRAY[" + ", ".join(f"'{k}'" for k in KINDS) + "]"
    return [
        ("session", "SET synchronous_commit = off"),
        (
            "creators",
            f"""INSERT INTO accounts_user (password, is_superuser, email, is_staff, is_active,
                date_joined, is_registry_manager, ref)
              SELECT '!', false, 'bench-creator' || o || '@example.org', false, true, now(),
                false, gen_random_uuid()
              FROM generate_series(1, {owners}) o""",
        ),
        (
            "creators",
            """CREATE TEMPORARY TABLE bench_owner AS
              SELECT split_part(split_part(email, '@', 1), 'bench-creator', 2)::int AS o, id
              FROM accounts_user WHERE email LIKE 'bench-creator%@example.org'""",
        ),
        ("creators", "ALTER TABLE bench_owner ADD PRIMARY KEY (o)"),
        ("creators", "ANALYZE bench_owner"),  # autovacuum never sees temporary tables
        (
            "creators",
            """INSERT INTO accounts_creatorprofile (display_name, credit_name, pseudonyms, isni,
                website, bio, pronouns, updated_at, user_id)
              SELECT 'Bench Creator ' || o, 'Bench Creator ' || o, '', '',
                'https://creator' || o || '.example', '', '', now(), id
              FROM bench_owner""",
        ),
        (
            # What profile_names_sync writes: the folded names (display = credit name).
            "creators",
            """INSERT INTO accounts_creatorname (profile_id, name_folded)
              SELECT p.id, 'bench creator ' || o
              FROM accounts_creatorprofile p JOIN bench_owner ON bench_owner.id = p.user_id""",
        ),
        (
            "works",
            f"""INSERT INTO works_work (public_id, owner_id, title, title_folded, kind, year,
                description, co_creators, status, claim_state, claim_decided_at, claim_reason,
                created_at, updated_at)
              SELECT 'Bench' || lpad(g::text, 11, '0'), bench_owner.id, 'Bench work ' || g,
                'bench work ' || g,
                ({kinds})[mod(g, {len(KINDS)}) + 1], 1990 + mod(g, 35), '', '',
                CASE WHEN mod(g, 50) = 0 THEN 'archived' ELSE 'active' END,
                CASE WHEN mod(g, 97) = 0 THEN 'rejected' WHEN mod(g, 3) = 0 THEN 'verified'
                  ELSE 'self_declared' END,
                CASE WHEN mod(g, 97) = 0 OR mod(g, 3) = 0 THEN now() END,
                '', now(), now()
              FROM generate_series(1, {n}) g
              JOIN bench_owner ON bench_owner.o = mod(g, {owners}) + 1""",
        ),
        (
            "works",
            """CREATE TEMPORARY TABLE bench_work AS
              SELECT substr(public_id, 6)::int AS g, id, owner_id
              FROM works_work WHERE public_id LIKE 'Bench%'""",
        ),
        ("works", "ALTER TABLE bench_work ADD PRIMARY KEY (g)"),
        ("works", "ANALYZE bench_work"),
        (
            "identifiers",
            f"""INSERT INTO works_workidentifier (scheme, value, created_at, work_id)
              SELECT 'url', 'https://creator' || (mod(g, {owners}) + 1) || '.example/works/' || g,
                now(), id
              FROM bench_work""",
        ),
        (
            "identifiers",
            f"""INSERT INTO works_workidentifier (scheme, value, created_at, work_id)
              SELECT 'isbn', s || {_CHECK_ISBN}, now(), id
              FROM (SELECT id, '978' || lpad(g::text, 9, '0') AS s FROM bench_work
                    WHERE mod(g, 4) = 0) w""",
        ),
        (
            "identifiers",
            """INSERT INTO works_workidentifier (scheme, value, created_at, work_id)
              SELECT 'isrc', 'QZB' || lpad(mod(g / 10000000, 100)::text, 2, '0')
                || lpad(mod(g / 100000, 100)::text, 2, '0') || lpad(mod(g, 100000)::text, 5, '0'),
                now(), id
              FROM bench_work WHERE mod(g, 4) = 1""",
        ),
        (
            "identifiers",
            f"""INSERT INTO works_workidentifier (scheme, value, created_at, work_id)
              SELECT 'iswc', 'T' || s || {_CHECK_ISWC}, now(), id
              FROM (SELECT id, lpad(g::text, 9, '0') AS s FROM bench_work
                    WHERE mod(g, 4) = 2) w""",
        ),
        (
            "identifiers",
            """INSERT INTO works_workidentifier (scheme, value, created_at, work_id)
              SELECT 'doi', '10.5555/bench.' || g, now(), id
              FROM bench_work WHERE mod(g, 4) = 3""",
        ),
        (
            "files",
            f"""INSERT INTO works_workfile (work_id, status, original, original_name, size,
                sha256, family, format, mime, width, height, phash, phash_b0, phash_b1, phash_b2,
                phash_b3, phash_b4, thumbnail, error, uploaded_at, processed_at)
              SELECT id, 'ready', '', 'bench-' || g || '.jpg', 100000 + g,
                encode(sha256(convert_to('bench-file-' || g, 'UTF8')), 'hex'),
                'image', 'jpeg', 'image/jpeg', 1200, 800, h,
                (h >> 51) & 8191, (h >> 38) & 8191, (h >> 25) & 8191, (h >> 12) & 8191, h & 4095,
                '', '', now(), now()
              FROM (SELECT id, g, {_PHASH_SQL} AS h FROM bench_work WHERE mod(g, 2) = 0) w""",
        ),
        (
            "consent",
            """INSERT INTO consent_preference (owner_id, work_id, use, choice, updated_at)
              SELECT id, NULL, u, c, now()
              FROM bench_owner,
                LATERAL (VALUES
                  ('train-genai', CASE mod(o, 4) WHEN 0 THEN 'allow' WHEN 1 THEN 'licence'
                    ELSE 'deny' END),
                  ('train-ai', CASE mod(o, 4) WHEN 0 THEN 'allow' WHEN 1 THEN 'licence'
                    ELSE 'deny' END),
                  ('search', 'allow')) AS p(u, c)
              WHERE mod(o, 4) <> 3""",
        ),
        (
            "consent",
            """INSERT INTO consent_preference (owner_id, work_id, use, choice, updated_at)
              SELECT owner_id, id, 'train-genai',
                CASE WHEN mod(g, 40) = 0 THEN 'deny' ELSE 'allow' END, now()
              FROM bench_work WHERE mod(g, 20) = 0""",
        ),
        (
            "consent",
            """INSERT INTO consent_creditpreference (credit_line, attribution_required, link,
                licensing_contact, terms_url, updated_at, owner_id)
              SELECT '© Bench Creator ' || o, true, 'https://creator' || o || '.example',
                'licensing@creator' || o || '.example', '', now(), id
              FROM bench_owner WHERE mod(o, 2) = 0""",
        ),
        (
            "developers",
            f"""INSERT INTO notices_aideveloper (name, slug, website, crawler_user_agents,
                is_active, digest_frequency, created_at, updated_at)
              VALUES ('Bench AI Lab', '{DEVELOPER_SLUG}', 'https://bench-ai.example', '', true,
                'off', now(), now()),
                ('Other AI Lab', '{OTHER_DEVELOPER_SLUG}', 'https://other-ai.example', '', true,
                'off', now(), now())""",
        ),
        (
            "licences",
            f"""INSERT INTO consent_licencegrant (owner_id, developer_id, all_works, uses,
                licence_ref, starts_on, start_recorded_at, created_at)
              SELECT bench_owner.id, d.id, mod(o, 8) = 1, '["train-genai"]'::jsonb,
                'BENCH-LIC-' || o, current_date - 30, now(), now()
              FROM bench_owner, notices_aideveloper d
              WHERE d.slug = '{DEVELOPER_SLUG}' AND mod(o, 8) IN (1, 5)""",
        ),
        (
            "licences",
            f"""INSERT INTO consent_licencegrant_works (licencegrant_id, work_id)
              SELECT grant_.id, w.id
              FROM consent_licencegrant grant_
              JOIN bench_work w ON w.owner_id = grant_.owner_id AND mod(w.g, 7) = 0
              WHERE NOT grant_.all_works AND grant_.licence_ref LIKE 'BENCH-LIC-%'
                AND grant_.developer_id = (SELECT id FROM notices_aideveloper
                                           WHERE slug = '{DEVELOPER_SLUG}')""",
        ),
        ("analyze", "DROP TABLE bench_work"),
        ("analyze", "DROP TABLE bench_owner"),
        ("analyze", "ANALYZE"),
    ]


@dataclass
class Built:
    works: int
    owners: int
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)  # what → seconds


def build(cursor, n: int = DEFAULT_WORKS, *, owners: int | None = None) -> Built:
    """Fill the (migrated, empty of bench rows) database behind ``cursor`` — anything with
    ``execute(sql)``: a psycopg connection or cursor, or a Django cursor — with ``n`` works.
    PostgreSQL only. Run it on a connection in autocommit mode for speed (each statement its
    own transaction), or inside one transaction (a test) — both work."""
    owners = owners or owners_for(n)
    started = time.monotonic()
    steps: dict[str, float] = {}
    for what, sql in _statements(n, owners):
        t = time.monotonic()
        cursor.execute(sql)
        steps[what] = steps.get(what, 0.0) + time.monotonic() - t
    return Built(works=n, owners=owners, seconds=time.monotonic() - started, steps=steps)


# --- Sampling ----------------------------------------------------------------------------------


@dataclass
class Sample:
    items: list[dict]  # lookup items, e.g. {"isbn": "9780000000422"}
    hits: list[bool]  # whether each item names a stored work (a URL variant or near pHash too)
    works: list[int | None]  # the work's number g for a hit


# How a pipeline's identifiers are mixed: URLs most, then images, then the standard numbers.
MIX = (("url", 30), ("sha256", 15), ("phash", 15), ("isbn", 10), ("isrc", 10), ("iswc", 10))
MIX += (("doi", 10),)


def _url_variant(address: str, rng: random.Random) -> str:
    """The same page as a pipeline may hold it: host case, default port, tracking, fragment."""
    scheme, _, rest = address.partition("://")
    host, _, path = rest.partition("/")
    return rng.choice(
        (
            f"{scheme}://{host.upper()}/{path}",
            f"{scheme}://{host}:443/{path}",
            f"{scheme}://{host}/{path}?utm_source=newsletter&utm_medium=email",
            f"{scheme}://{host}/{path}#gallery",
            f"{scheme}://{host}/{path}?fbclid=IwAR0bench",
        )
    )


def sample(
    n: int,
    size: int = 10_000,
    *,
    hit_ratio: float = 0.6,
    seed: int = 2026,
    owners: int | None = None,
    kinds: tuple[str, ...] | None = None,
) -> Sample:
    """``size`` lookup items for a registry built with ``build(n)``, mixed as ``MIX`` (or only
    ``kinds``): about ``hit_ratio`` of them name a stored work — a fifth of URL hits written
    differently (the one URL rule makes them the same address), a third of pHash hits 1–3
    bits off — and the rest are well-formed identifiers of works not stored (valid check
    digits, numbers beyond ``n``). Deterministic for a seed."""
    owners = owners or owners_for(n)
    rng = random.Random(seed)
    mix = [(k, w) for k, w in MIX if kinds is None or k in kinds]
    names, weights = zip(*mix, strict=True)
    items, hits, works = [], [], []
    for kind in rng.choices(names, weights, k=size):
        hit = rng.random() < hit_ratio
        if kind in ("sha256", "phash"):  # files: even numbers
            if hit and n >= 2:
                g = 2 * rng.randrange(1, n // 2 + 1)
            else:
                hit, g = False, 2 * (n // 2 + 1 + rng.randrange(n))
        elif kind in SCHEME_OF:  # numbers with g mod 4 = r carry this scheme
            r = SCHEME_OF.index(kind)
            first, last = (4 if r == 0 else r), n - (n - r) % 4
            if hit and first <= n:
                g = first + 4 * rng.randrange((last - first) // 4 + 1)
            else:
                hit, g = False, 4 * (n // 4 + 1 + rng.randrange(n)) + r
        else:
            g = rng.randrange(1, n + 1) if hit else n + 1 + rng.randrange(n)
        if kind == "url":
            value = url(g, owners)
            if hit and rng.random() < 0.2:
                value = _url_variant(value, rng)
        elif kind == "sha256":
            value = sha256(g)
        elif kind == "phash":
            bits = phash(g)
            if hit and rng.random() < 1 / 3:
                for bit in rng.sample(range(64), rng.randint(1, 3)):
                    bits ^= 1 << bit
            value = f"{bits:016x}"
        else:
            value = _SCHEME_VALUE[kind](g)
        items.append({kind: value})
        hits.append(hit)
        works.append(g if hit else None)
    return Sample(items=items, hits=hits, works=works)


# --- A scratch database ------------------------------------------------------------------------


def postgres_or_skip() -> str | None:
    """None when a PostgreSQL server answers at ``BENCH_PG_URL``; otherwise why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        psycopg.connect(f"{SERVER}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError:
        return f"no PostgreSQL at {SERVER}"
    return None


@contextmanager
def scratch_database(prefix: str = "bench_registry"):
    """A new database ``<prefix>_<random>`` on ``BENCH_PG_URL``, migrated; yields its URL and
    drops it afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    database_url = f"{SERVER}/{name}"
    admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=3)
    try:
        admin.execute(f"CREATE DATABASE {name}")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "DJANGO_SETTINGS_MODULE": "portal.settings",
                "DATABASE_URL": database_url,
            },
            check=True,
            timeout=600,
        )
        yield database_url
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def main(argv: list[str]) -> int:
    """``python -m bench._registry_data [N]``: build N works in a scratch database, say how
    long each step took and how big the tables are, then drop it."""
    import psycopg

    n = int(argv[0]) if argv else DEFAULT_WORKS
    if why := postgres_or_skip():
        print(f"skipped: {why}")
        return 0
    with scratch_database() as database_url, psycopg.connect(database_url) as connection:
        connection.autocommit = True
        built = build(connection, n)
        sizes = connection.execute(
            "SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) "
            "FROM pg_stat_user_tables WHERE relname IN ('works_work', "
            "'works_workidentifier', 'works_workfile', 'consent_preference', "
            "'consent_licencegrant_works') ORDER BY relname"
        ).fetchall()
    print(f"{built.works:,} works of {built.owners:,} creators in {built.seconds:.1f} s")
    for what, seconds in built.steps.items():
        print(f"  {what:12} {seconds:7.1f} s")
    for name, rows, size in sizes:
        print(f"  {name:28} {rows:>10,} rows {size:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
