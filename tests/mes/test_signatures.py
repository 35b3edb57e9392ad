import pytest
from django.db import transaction

from mes.models import ElectronicSignature
from mes.signatures import SignatureLocked, SignatureRefused, record_hash, sign_record, signing_locked
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


def test_repeated_wrong_passwords_lock_signing_even_with_the_right_one(settings, caplog):
    settings.MES_SIGNATURE_MAX_FAILURES = 3
    user = UserFactory(username="qe3")
    other = UserFactory(username="qe4")

    def sign(who, password):
        with transaction.atomic():
            return sign_record(user=who, password=password, meaning="m", record_type="hold", record_id=1, content={})

    sign(user, "secret-pass-123")
    for _ in range(3):
        with pytest.raises(SignatureRefused) as refused:
            sign(user, "wrong")
        assert refused.value.code == "signature_refused"
    assert signing_locked(user)
    assert any(r.name == "mes.security" and r.user_id == user.pk for r in caplog.records)
    with pytest.raises(SignatureLocked) as locked:
        sign(user, "secret-pass-123")
    assert locked.value.status == 403 and locked.value.field == "signature_password"
    assert locked.value.code == "signature_locked" and "locked" in str(locked.value)
    sign(other, "secret-pass-123")  # one user's lockout is not another's
    assert ElectronicSignature.objects.filter(user=user).count() == 1


def test_a_good_signature_clears_earlier_wrong_passwords(settings):
    settings.MES_SIGNATURE_MAX_FAILURES = 2
    user = UserFactory(username="qe5")
    for password in ("wrong", "secret-pass-123", "wrong", "secret-pass-123"):
        try:
            with transaction.atomic():
                sign_record(user=user, password=password, meaning="m", record_type="hold", record_id=1, content={})
        except SignatureRefused:
            pass
    assert not signing_locked(user)
    assert ElectronicSignature.objects.filter(user=user).count() == 2


@pytest.mark.postgres
def test_the_database_refuses_to_alter_or_remove_a_signature():
    from django.db import DatabaseError, connection

    user = UserFactory(username="qe6")
    with transaction.atomic():
        signature = sign_record(user=user, password="secret-pass-123", meaning="m", record_type="hold", record_id=1, content={})
    table = ElectronicSignature._meta.db_table
    for sql in (f'UPDATE "{table}" SET meaning = %s WHERE id = %s', f'DELETE FROM "{table}" WHERE id = %s AND %s IS NOT NULL'):
        params = ["forged", signature.pk] if sql.startswith("UPDATE") else [signature.pk, 1]
        with pytest.raises(DatabaseError, match="never altered or removed"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert ElectronicSignature.objects.get(pk=signature.pk).meaning == "m"
