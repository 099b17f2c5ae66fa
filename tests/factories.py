import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.folding import fold_title
from accounts.models import CreatorProfile, Guild, GuildMembership, GuildStaffAppointment, User
from accounts.services import profile_names_sync
from notices.models import AIDeveloper, DeveloperContact

PASSWORD = "correct horse battery staple 42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        """Users are created with a verified primary address unless ``verified=False``."""
        obj.save()
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class CreatorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreatorProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    display_name = factory.Faker("name")
    credit_name = factory.SelfAttribute("display_name")

    @factory.post_generation
    def names(obj, create, extracted, **kwargs):
        """The creator's names folded into ``CreatorName``, as ``profile_update`` keeps them."""
        if create:
            profile_names_sync(profile=obj)


class GuildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guild
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Guild {n}")
    slug = factory.Sequence(lambda n: f"guild-{n}")
    contact_email = factory.LazyAttribute(lambda o: f"office@{o.slug}.example")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GuildMembership

    user = factory.SubFactory(UserFactory)
    guild = factory.SubFactory(GuildFactory)
    membership_number = factory.Sequence(lambda n: f"M-{1000 + n}")
    status = GuildMembership.Status.CLAIMED

    class Params:
        verified = factory.Trait(
            status=GuildMembership.Status.VERIFIED, decided_at=factory.LazyFunction(timezone.now)
        )


class StaffAppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GuildStaffAppointment

    user = factory.SubFactory(UserFactory)
    guild = factory.SubFactory(GuildFactory)


class AIDeveloperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIDeveloper

    name = factory.Sequence(lambda n: f"Model Maker {n}")
    slug = factory.Sequence(lambda n: f"model-maker-{n}")
    website = factory.LazyAttribute(lambda o: f"https://{o.slug}.example")
    crawler_user_agents = "ExampleBot"


class DeveloperContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeveloperContact

    developer = factory.SubFactory(AIDeveloperFactory)
    email = factory.Sequence(lambda n: f"legal{n}@developer.example")
    confirmed_at = factory.LazyFunction(timezone.now)


class WorkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "works.Work"

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Work number {n}")
    title_folded = factory.LazyAttribute(lambda work: fold_title(work.title))
    kind = "book"
    year = 2020


class WorkIdentifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "works.WorkIdentifier"

    work = factory.SubFactory(WorkFactory)
    scheme = "url"
    value = factory.Sequence(lambda n: f"https://example.org/works/{n}")


class DeveloperMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "notices.DeveloperMember"

    developer = factory.SubFactory(AIDeveloperFactory)
    user = factory.SubFactory(UserFactory)
