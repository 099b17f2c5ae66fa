import pytest
from django.utils import timezone

from tests import factories


@pytest.fixture
def work(creator):
    """Alice's novel, with an ISBN and a URL."""
    work = factories.WorkFactory(owner=creator, title="The Quiet Harbour", kind="book", year=2019)
    factories.WorkIdentifierFactory(work=work, scheme="isbn", value="9780306406157")
    factories.WorkIdentifierFactory(work=work, scheme="url", value="https://alice.example/harbour")
    return work


@pytest.fixture
def pending_work(work):
    """The same novel, its claim sent to the Writers' Guild for verification."""
    work.claim_requested_at = timezone.now()
    work.save()
    work.evidence.create(
        statement="Published by Harbour Press, contract 2018-44.", added_by=work.owner
    )
    return work


@pytest.fixture
def other_work(other_creator):
    return factories.WorkFactory(owner=other_creator, title="Bob's Bassline", kind="recording")
