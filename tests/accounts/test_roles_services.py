import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import services
from accounts.models import AuditEvent, GuildStaffAppointment
from tests import factories


def test_superuser_appoints_and_revokes_staff_and_both_are_recorded(superuser, wggb):
    person = factories.UserFactory()
    appointment = services.staff_appoint(actor=superuser, guild=wggb, user=person)
    assert GuildStaffAppointment.objects.active().filter(user=person, guild=wggb).exists()
    services.staff_revoke(actor=superuser, appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.revoked_by == superuser
    assert not GuildStaffAppointment.objects.active().filter(user=person).exists()
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", "actor_label"))
    assert actions == [("staff.appoint", superuser.email), ("staff.revoke", superuser.email)]


def test_appointing_twice_is_refused(superuser, guild_staff, wggb):
    with pytest.raises(ValidationError):
        services.staff_appoint(actor=superuser, guild=wggb, user=guild_staff)


@pytest.mark.parametrize("persona", ["guild_staff", "registry_manager", "creator"])
def test_only_superusers_manage_staff_and_roles(request, persona, wggb):
    actor = request.getfixturevalue(persona)
    person = factories.UserFactory()
    with pytest.raises(PermissionDenied):
        services.staff_appoint(actor=actor, guild=wggb, user=person)
    with pytest.raises(PermissionDenied):
        services.registry_manager_set(actor=actor, user=person, value=True)
    with pytest.raises(PermissionDenied):
        services.guild_save(actor=actor, name="Rogue Guild", slug="rogue")
    assert not AuditEvent.objects.exists()


def test_registry_manager_role_grant_is_recorded(superuser):
    person = factories.UserFactory()
    services.registry_manager_set(actor=superuser, user=person, value=True)
    person.refresh_from_db()
    assert person.can_manage_registry
    event = AuditEvent.objects.get()
    assert event.action == "role.registry_manager.grant"
    assert event.before == {"is_registry_manager": False}
    assert event.after == {"is_registry_manager": True}


def test_guild_edit_records_before_and_after(superuser, wggb):
    services.guild_save(
        actor=superuser,
        guild=wggb,
        name="Writers' Guild",
        slug="wggb",
        website="https://example.org",
        contact_email="",
    )
    event = AuditEvent.objects.get(action="guild.update")
    assert event.before["name"] == "Writers' Guild of Great Britain"
    assert event.after["name"] == "Writers' Guild"


def test_profile_update_refuses_a_bad_isni_and_changes_nothing(creator):
    profile = creator.creator_profile
    with pytest.raises(ValidationError):
        services.profile_update(actor=creator, profile=profile, isni="0000 0001 2103 2684")
    profile.refresh_from_db()
    assert profile.isni == ""


def test_nobody_edits_another_creators_profile(creator, other_creator):
    with pytest.raises(PermissionDenied):
        services.profile_update(actor=other_creator, profile=creator.creator_profile, bio="hi")
