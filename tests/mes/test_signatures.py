import pytest
from django.db import transaction

from mes.models import ElectronicSignature
from mes.signatures import SignatureRefused, record_hash, sign_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_signature_records_name_meaning_time_and_hash():
    user = UserFactory(username="qe1", first_name="Quinn", last_name="Engineer")
    content = {"hold": 7, "lot": "L-1", "reason": "passed re-test"}
    with transaction.atomic():
        signature = sign_record(
            user=user, password="secret-pass-123", meaning="released from hold", record_type="hold", record_id=7, content=content
        )
    stored = ElectronicSignature.objects.get()
    assert stored.pk == signature.pk
    assert stored.signer_name == "Quinn Engineer"
    assert stored.meaning == "released from hold"
    assert stored.record_hash == record_hash(content) and len(stored.record_hash) == 64
    assert stored.signed_at is not None


@pytest.mark.parametrize("password", [None, "", "wrong"])
def test_signature_without_the_right_password_is_refused(password):
    user = UserFactory(username="qe2")
    with pytest.raises(SignatureRefused) as refused:
        with transaction.atomic():
            sign_record(user=user, password=password, meaning="m", record_type="hold", record_id=1, content={})
    assert refused.value.status == 403 and refused.value.field == "signature_password"
    assert not ElectronicSignature.objects.exists()


def test_hash_is_stable_for_the_same_content():
    assert record_hash({"b": 1, "a": "x"}) == record_hash({"a": "x", "b": 1})
    assert record_hash({"a": "x"}) != record_hash({"a": "y"})
