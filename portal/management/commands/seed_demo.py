"""Demo data for trying the portal: guilds, creators, staff, a superuser and AI developers.

Idempotent: running it again changes nothing that is already there. ``make run`` calls it with
``--if-empty``, so it only ever fills an empty database. Demo data is never created elsewhere.
"""

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import CreatorProfile, Guild, GuildMembership, GuildStaffAppointment, User
from notices.models import AIDeveloper, DeveloperContact

PASSWORD = "demo-portal-2026"

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
        with transaction.atomic():
            self.seed()
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
            CreatorProfile.objects.get_or_create(
                user=user, defaults={"display_name": name, "credit_name": credit or name}
            )
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
