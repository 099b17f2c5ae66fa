"""Demo data for trying the portal: guilds, creators, staff, a superuser, AI developers and a
developer account; removal requests at every stage; and a dataset disclosed by Demo Generative
Inc. whose manifest names some of Ada's and Ben's works another way, matched at once, so Ada has
findings to confirm.

Idempotent: running it again changes nothing that is already there. ``make run`` calls it with
``--if-empty``, so it only ever fills an empty database. Demo data is never created elsewhere.
"""

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import CreatorProfile, Guild, GuildMembership, GuildStaffAppointment, User
from accounts.services import profile_names_sync
from notices.models import AIDeveloper, DeveloperContact
from works.models import Work, WorkIdentifier

PASSWORD = "demo-portal-2026"
# The demo developer's API key (README). Only its SHA-256 is stored, as for every key.
DEMO_API_KEY = "ccp_demo0001_example-ai-labs-demo-key-not-secret"

GUILDS = [
    ("Writers' Guild of Great Britain", "wggb", "https://writersguild.org.uk"),
    ("Society of Authors", "soa", "https://societyofauthors.org"),
    ("Musicians' Union", "mu", "https://musiciansunion.org.uk"),
    ("National Union of Journalists", "nuj", "https://www.nuj.org.uk"),
]

DEVELOPERS = [
    (
        "Example AI Labs",
        "example-ai-labs",
        "ExampleBot\nExampleBot-Training",
        "legal@example-ai.demo.example",
    ),
    ("Sample Models Ltd", "sample-models", "SampleCrawler", "optout@sample-models.demo.example"),
    (
        "Demo Generative Inc.",
        "demo-generative",
        "DemoGenBot",
        "notices@demo-generative.demo.example",
    ),
]


# (owner, title, kind, year, identifiers, claim) — identifiers already normalised.
CATALOGUE = [
    (
        "ada",
        "The Lighthouse Keeper's Daughter",
        "book",
        2019,
        [("isbn", "9780306406157"), ("url", "https://ada-quill.demo.example/books/lighthouse")],
        "verified",
    ),
    ("ada", "Salt and Signal", "book", 2022, [("isbn", "9783161484100")], "verified"),
    (
        "ada",
        "Harbour Lights (screenplay)",
        "script",
        2023,
        [("url", "https://ada-quill.demo.example/scripts/harbour-lights")],
        "pending",
    ),
    (
        "ada",
        "Low Tide",
        "poem",
        2021,
        [("url", "https://poetry.demo.example/low-tide")],
        "self_declared",
    ),
    (
        "ada",
        "Why Writers Need a Say in AI",
        "article",
        2024,
        [("doi", "10.1000/182"), ("url", "https://news.demo.example/opinion/writers-ai")],
        "self_declared",
    ),
    ("ada", "Fog Over Portland Bill", "photograph", 2020, [], "self_declared"),
    ("ben", "Northern Lines", "composition", 2018, [("iswc", "T0345246801")], "self_declared"),
    (
        "ben",
        "Northern Lines (studio recording)",
        "recording",
        2018,
        [("isrc", "GBAYE0601498")],
        "self_declared",
    ),
    ("ben", "Night Bus Home", "recording", 2021, [("isrc", "USRC17607839")], "self_declared"),
    (
        "ben",
        "Live at the Corn Exchange",
        "performance",
        2022,
        [("url", "https://video.demo.example/ben-strings-corn-exchange")],
        "self_declared",
    ),
    ("ben", "Session Notes", "video", 2023, [], "self_declared"),
    ("ben", "Album Cover: Northern Lines", "artwork", 2018, [], "self_declared"),
]
IMAGES = {
    "Fog Over Portland Bill": (1600, 1067, 7),
    "Album Cover: Northern Lines": (1200, 1200, 11),
}


class Command(BaseCommand):
    help = "Load the demo guilds, accounts and AI developers (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has users.",
        )

    def handle(self, *args, if_empty=False, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("Database already has data: demo data not loaded.")
            return
        self.aged_request = None
        with transaction.atomic():
            self.seed()
        self.deliver_removal_notices()
        if self.aged_request is not None:
            from notices.deadlines import deadlines_run

            self.age_removal_request(self.aged_request)
            deadlines_run()  # Demo Generative's answer is overdue: a last reminder, escalation
            self.deliver_removal_notices()
        self.disclosure()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Every demo password: {PASSWORD}"))

    def user(self, email, *, superuser=False, name="", credit=""):
        user = User.objects.filter(email=email).first()
        if user is None:
            make = User.objects.create_superuser if superuser else User.objects.create_user
            user = make(email=email, password=PASSWORD)
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        if name:
            profile, _ = CreatorProfile.objects.get_or_create(
                user=user, defaults={"display_name": name, "credit_name": credit or name}
            )
            profile_names_sync(profile=profile)
        return user

    def seed(self):
        guilds = {}
        for name, slug, website in GUILDS:
            guilds[slug], _ = Guild.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "website": website,
                    "contact_email": f"{slug}@demo.example",
                },
            )
        admin = self.user("admin@demo.example", superuser=True)
        now = timezone.now()

        staff_wggb = self.user("staff.wggb@demo.example", name="Wendy Staff")
        staff_mu = self.user("staff.mu@demo.example", name="Martin Staff")
        for user, slug in [(staff_wggb, "wggb"), (staff_mu, "mu")]:
            if (
                not GuildStaffAppointment.objects.active()
                .filter(user=user, guild=guilds[slug])
                .exists()
            ):
                GuildStaffAppointment.objects.create(
                    user=user, guild=guilds[slug], appointed_by=admin
                )

        ada = self.user("ada@demo.example", name="Ada Quill", credit="Ada Quill")
        CreatorProfile.objects.filter(user=ada, bio="").update(
            pseudonyms="A. Q. Lovell",
            website="https://ada-quill.demo.example",
            bio="Novelist and screenwriter.",
        )
        profile_names_sync(profile=CreatorProfile.objects.get(user=ada))  # Ada's pseudonym too
        GuildMembership.objects.get_or_create(
            user=ada,
            guild=guilds["wggb"],
            defaults={
                "membership_number": "WGGB-10482",
                "status": GuildMembership.Status.VERIFIED,
                "decided_by": staff_wggb,
                "decided_at": now,
            },
        )
        ben = self.user("ben@demo.example", name="Ben Strings", credit="Ben Strings")
        GuildMembership.objects.get_or_create(
            user=ben, guild=guilds["mu"], defaults={"membership_number": "MU-77310"}
        )

        self.catalogue({"ada": ada, "ben": ben}, staff_wggb, now)
        self.conflict_demo(ben)

        for name, slug, agents, email in DEVELOPERS:
            developer, _ = AIDeveloper.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "website": f"https://{slug}.demo.example",
                    "crawler_user_agents": agents,
                },
            )
            DeveloperContact.objects.get_or_create(
                developer=developer,
                email=email,
                removed_at=None,
                defaults={"label": "Legal", "added_by": admin, "confirmed_at": now},
            )

        self.developer_account(admin)
        self.consent(ada, ben)
        self.removal_requests(ada, staff_wggb, ben, admin)

    def developer_account(self, admin):
        """Dana at Example AI Labs: a developer account with the README's API key and a daily
        consent digest."""
        from notices.models import APIKey, DeveloperMember
        from notices.services.apikeys import _hash

        labs = AIDeveloper.objects.get(slug="example-ai-labs")
        dev = self.user("dev@demo.example")
        DeveloperMember.objects.get_or_create(
            user=dev, defaults={"developer": labs, "invited_by": admin}
        )
        AIDeveloper.objects.filter(pk=labs.pk).update(
            digest_frequency=AIDeveloper.DigestFrequency.DAILY
        )
        prefix = DEMO_API_KEY.split("_")[1]
        APIKey.objects.get_or_create(
            prefix=prefix,
            defaults={
                "developer": labs,
                "name": "Demo pipeline (key in the README)",
                "hashed": _hash(DEMO_API_KEY),
                "created_by": dev,
            },
        )

    def catalogue(self, owners, verifier, now):
        from works import services

        for owner_key, title, kind, year, identifiers, claim in CATALOGUE:
            owner = owners[owner_key]
            if Work.objects.filter(owner=owner, title=title).exists():
                continue
            grouped: dict[str, list[str]] = {}
            for scheme, value in identifiers:
                grouped.setdefault(scheme, []).append(value)
            work = services.work_create(
                owner=owner, title=title, kind=kind, year=year, identifiers=grouped
            )
            if title in IMAGES:
                self.attach_demo_image(work, *IMAGES[title])
            if claim in ("pending", "verified"):
                Work.objects.filter(pk=work.pk).update(claim_requested_at=now)
            if claim == "verified":
                Work.objects.filter(pk=work.pk).update(
                    claim_state=Work.Claim.VERIFIED, claim_decided_by=verifier, claim_decided_at=now
                )
        assert WorkIdentifier.objects.exists()

    def conflict_demo(self, ben):
        """Ben registers a book with the ISBN of Ada's verified novel: the service records a
        conflict across guilds (routed to superusers) that blocks Ben's later claim."""
        from works import services

        title = "The Lighthouse Keeper's Daughter"
        if not Work.objects.filter(owner=ben, title=title).exists():
            services.work_create(
                owner=ben,
                title=title,
                kind="book",
                year=2020,
                identifiers={"isbn": ["9780306406157"]},
            )

    @staticmethod
    def demo_image(width, height, seed):
        """A generated picture (gradients and shapes), the same for the same arguments."""
        import random

        from PIL import Image, ImageDraw

        rng = random.Random(seed)
        image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
        draw = ImageDraw.Draw(image)
        for _ in range(24):
            x, y = rng.randrange(width), rng.randrange(height)
            r = rng.randrange(20, max(21, width // 5))
            colour = tuple(rng.randrange(256) for _ in range(3))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        return image

    def attach_demo_image(self, work, width, height, seed):
        """A generated picture, uploaded through the real pipeline."""
        import tempfile

        from django.core.files.uploadedfile import TemporaryUploadedFile

        from works import services

        image = self.demo_image(width, height, seed)
        with tempfile.NamedTemporaryFile(suffix=".jpg") as handle:
            image.save(handle, "JPEG", quality=88)
            size = handle.tell()
            upload = TemporaryUploadedFile(f"{work.title}.jpg", "image/jpeg", size, None)
            with open(handle.name, "rb") as source:
                upload.write(source.read())
            upload.seek(0)
            try:
                services.work_file_attach(actor=work.owner, work=work, upload=upload)
            finally:
                upload.close()  # storage moved the file: close() knows to expect that

    def consent(self, ada, ben):
        """The issue's demo choices, written through the consent services so that the ledger
        has their entries (and verifies). Saying again what already holds writes nothing."""
        from datetime import timedelta

        from consent import services
        from consent.models import LicenceGrant

        # Ada denies every AI use by default; one book is open to AI training under licence.
        services.defaults_set(
            actor=ada,
            owner=ada,
            choices={
                "train-genai": "deny",
                "train-ai": "deny",
                "ai-input": "deny",
                "style": "deny",
            },
        )
        book = Work.objects.get(owner=ada, title="Salt and Signal")
        services.override_set(
            actor=ada, work=book, choices={"train-genai": "licence", "train-ai": "licence"}
        )

        # Ben allows search and training any AI, but not training generative AI — except for
        # Example AI Labs, which holds Ben's licence LIC-42 for a year.
        services.defaults_set(
            actor=ben,
            owner=ben,
            choices={"search": "allow", "train-ai": "allow", "train-genai": "deny"},
        )
        labs = AIDeveloper.objects.get(slug="example-ai-labs")
        if not LicenceGrant.objects.filter(
            owner=ben, developer=labs, licence_ref="LIC-42", revoked_at__isnull=True
        ).exists():
            today = timezone.localdate()
            services.grant_create(
                actor=ben,
                owner=ben,
                developer=labs,
                uses=["train-genai"],
                licence_ref="LIC-42",
                starts_on=today,
                ends_on=today + timedelta(days=364),
            )

    def removal_requests(self, ada, staff, ben, admin):
        """Removal requests at every stage. Ada: a draft, one awaiting the guild's review, and
        one approved five weeks ago (made so by ``age_removal_request``) whose notices were
        delivered: Sample Models acknowledged it, Demo Generative let its deadline pass. Ben
        (no verified guild, so superusers review them): one approved today, to Example AI Labs,
        for dev@demo.example to answer."""
        from notices.models import NoticeAnswer
        from notices.services import answer_record
        from removals import services
        from removals.models import RemovalRequest

        if RemovalRequest.objects.filter(creator=ada).exists():
            return
        books = list(Work.objects.filter(owner=ada, kind="book").order_by("title"))
        poem = Work.objects.get(owner=ada, title="Low Tide")
        screenplay = Work.objects.get(owner=ada, title="Harbour Lights (screenplay)")
        developers = {d.slug: d for d in AIDeveloper.objects.all()}

        def request(owner, title, works, devs, asks, where, *, submit=True):
            made = services.draft_create(actor=owner, creator=owner, title=title)
            services.draft_update(
                actor=owner,
                request=made,
                works=works,
                developers=[developers[slug] for slug in devs],
                asks=asks,
                where_used=where,
            )
            if submit:
                services.request_submit(actor=owner, request=made, good_faith=True, accurate=True)
            return made

        books3 = (
            "Found in the “Books3” training dataset listing and in answers of a chatbot quoting "
            "whole pages: https://datasets.demo.example/books3/index"
        )
        request(
            ada,
            "Poems in chatbots",
            [poem],
            ["sample-models"],
            ["inference"],
            "A chatbot recites “Low Tide” in full when asked.",
            submit=False,
        )
        request(
            ada,
            "Screenplay scraped from my site",
            [screenplay],
            list(developers),
            ["cease", "credit"],
            "Scraped from https://ada-quill.demo.example/scripts/ despite robots.txt.",
        )
        approved = request(
            ada,
            "My novels in training datasets",
            books,
            ["sample-models", "demo-generative"],
            ["cease", "datasets", "models"],
            books3,
        )
        notices = services.request_approve(
            actor=staff,
            request=approved,
            note="Both novels are verified; the ISBNs match the publisher's records.",
        )
        sample = next(n for n in notices if n.developer.slug == "sample-models")
        answer_record(
            notice=sample,
            kind=NoticeAnswer.Kind.ACKNOWLEDGED,
            statement="Received; our data team is checking the Books3 copy we hold.",
            via=NoticeAnswer.Via.LINK,
        )
        self.aged_request = approved.pk

        night_bus = Work.objects.get(owner=ben, title="Night Bus Home")
        bens = request(
            ben,
            "Night Bus Home in a music generator",
            [night_bus],
            ["example-ai-labs"],
            ["cease", "models", "credit"],
            "The “ExampleTunes” model plays the melody of Night Bus Home when asked for a "
            "“late-night bus” song.",
        )
        services.request_approve(actor=admin, request=bens, grants_acknowledged=True)

    def age_removal_request(self, pk, days=35):
        """Move an approved request's whole history ``days`` back, as if it had happened then
        (the deadline with it), so the deadline run finds the unanswered notice overdue."""
        from datetime import timedelta

        from django.db.models import F

        from notices.models import Delivery, DeliveryAttempt, Notice, NoticeAnswer
        from removals.models import RemovalEvent, RemovalRequest

        shift = timedelta(days=days)
        with transaction.atomic():
            request = RemovalRequest.objects.get(pk=pk)
            RemovalRequest.objects.filter(pk=pk).update(
                created_at=F("created_at") - shift,
                submitted_at=F("submitted_at") - shift,
                decided_at=F("decided_at") - shift,
            )
            RemovalEvent.objects.filter(request_id=pk).update(at=F("at") - shift)
            notices = Notice.objects.filter(topic=request.topic)
            notices.update(
                created_at=F("created_at") - shift, answer_due_at=F("answer_due_at") - shift
            )
            # The acknowledgement came two days after the notice.
            answered = shift - timedelta(days=2)
            notices.filter(answered_at__isnull=False).update(
                answered_at=F("answered_at") - answered
            )
            NoticeAnswer.objects.filter(notice__topic=request.topic).update(
                created_at=F("created_at") - answered
            )
            RemovalEvent.objects.filter(request_id=pk, action="answered").update(
                at=F("at") + timedelta(days=2)
            )
            deliveries = Delivery.objects.filter(notice__topic=request.topic)
            deliveries.update(
                created_at=F("created_at") - shift,
                window_started_at=F("window_started_at") - shift,
                next_attempt_at=F("next_attempt_at") - shift,
            )
            deliveries.filter(delivered_at__isnull=False).update(
                delivered_at=F("delivered_at") - shift
            )
            DeliveryAttempt.objects.filter(delivery__notice__topic=request.topic).update(
                started_at=F("started_at") - shift, finished_at=F("finished_at") - shift
            )

    def deliver_removal_notices(self):
        """Deliver the demo's removal notices now (to the mail folder), outside the seeding
        transaction as every delivery is, so the timeline shows them delivered at once."""
        from notices import deliveries
        from notices.models import Delivery

        queued = Delivery.objects.filter(
            notice__topic__startswith="removal:", status=Delivery.Status.QUEUED
        )
        deliveries.attempt_many(delivery_ids=list(queued.values_list("pk", flat=True)))

    def disclosure(self):
        """Demo Generative Inc. discloses "Open Web Images & Text" (a CSV manifest written here,
        submitted through the service as the dashboard does, matched at once by the engine the
        worker runs). Among unrelated rows it names Ada's "Salt and Signal" by its ISBN written
        with hyphens, a page under Ada's verified site, "Low Tide" by its title and Ada's pseudonym
        (a weak finding), and Ben's album cover as a smaller re-encoded copy (its pHash) and
        "Night Bus Home" by its ISRC written with hyphens. Both are emailed once (by the worker,
        when it runs)."""
        import csv
        import io

        from django.core.files.uploadedfile import SimpleUploadedFile

        from disclosures import matching
        from disclosures import services as disclosure_services
        from works import fingerprints
        from works import services as work_services
        from works.models import WorkFile
        from works_registry import sites_services
        from works_registry.models import Site

        ada = User.objects.get(email="ada@demo.example")
        ben = User.objects.get(email="ben@demo.example")
        developer, _ = AIDeveloper.objects.get_or_create(
            slug="demo-generative",
            defaults={
                "name": "Demo Generative Inc.",
                "website": "https://demo-generative.demo.example",
                "crawler_user_agents": "DemoGenBot",
            },
        )
        # Ada's website, verified (as the worker does when it finds the token there).
        if not Site.objects.filter(owner=ada, host="ada-quill.demo.example").exists():
            with transaction.atomic():
                site = sites_services.site_declare(
                    actor=ada, address="https://ada-quill.demo.example/"
                )
                sites_services.site_verify(site=site, method="file", now=timezone.now())
        # The demo images' pHashes, in case no worker has processed them yet.
        for file_id in WorkFile.objects.filter(
            work__owner__in=[ada, ben], status=WorkFile.Status.PROCESSING
        ).values_list("pk", flat=True):
            work_services.work_file_process(file_id=file_id)

        cover = self.demo_image(*IMAGES["Album Cover: Northern Lines"])
        copy = io.BytesIO()
        cover.resize((600, 600)).save(copy, "JPEG", quality=60)  # smaller, re-compressed
        cover_phash = fingerprints.image_phash(copy, max_pixels=50_000_000)
        cdn = "https://cdn.demo.example"
        header = ["url", "isbn", "isrc", "phash", "title", "author", "caption"]
        rows = [
            [f"{cdn}/img/000101.jpg", "", "", "", "", "", "a cat on a sill"],
            ["", "978-3-16-148410-0", "", "", "", "", "ebook, chapter 1"],  # Ada: ISBN
            ["https://news.demo.example/sport/results", "", "", "", "", "", "match report"],
            ["", "978-1-86197-271-2", "", "", "", "", "a novel nobody registered"],
            # Ada: a page under Ada's verified site (no work registered at that address)
            ["https://ada-quill.demo.example/blog/2025/notes-on-revision", "", "", "", "", "", ""],
            [f"{cdn}/img/000102.jpg", "", "", "", "", "", "harbour at dusk"],
            # Ben: a smaller, re-encoded copy of Ben's album cover (its perceptual hash)
            [f"{cdn}/covers/northern-lines.jpg", "", "", f"{cover_phash:016x}", "", "", "cover"],
            ["", "", "", "", "Low Tide", "A. Q. Lovell", "poem"],  # Ada: title and pseudonym
            ["", "", "US-RC1-76-07839", "", "", "", "audio track"],  # Ben: ISRC
            ["", "", "", "", "The Cartographer's Notebook", "J. Doe", "essay"],
            ["https://video.demo.example/other-band-live", "", "", "", "", "", "concert"],
        ]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        upload = SimpleUploadedFile(
            "open-web-images-text-2026-11.csv", buffer.getvalue().encode(), "text/csv"
        )
        disclosure, created = disclosure_services.disclosure_submit(
            actor=None,
            developer=developer,
            fields=disclosure_services.Fields(
                name="Open Web Images & Text",
                version="2026-11",
                uses=["train-genai", "train-ai"],
                models_text="DemoGen Image 3, DemoGen Chat 2",
                summary_url="https://demo-generative.demo.example/training-data-summary",
            ),
            manifest=upload,
            via="api",
        )
        if created:
            matching.disclosure_run(disclosure_id=disclosure.pk)  # a worker may have started
