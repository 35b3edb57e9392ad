"""Electronic signatures over the API: the fields a signed request adds, and a signature as shown."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from mes.models import ElectronicSignature

# The 403 of a signed operation: a role that may not act, or a refused signature.
SIGNATURE_REFUSED = {
    (403, "application/problem+json"): OpenApiResponse(
        response={"$ref": "#/components/schemas/Problem"},
        description="The caller's role may not do this, or the electronic signature was refused: "
        "`code` `signature_refused`, `errors[]` naming `signature_password`. Nothing changed.",
    )
}


class SignatureSerializer(serializers.ModelSerializer):
    signer = serializers.CharField(source="signer_name", read_only=True)

    class Meta:
        model = ElectronicSignature
        fields = ["id", "signer", "meaning", "signed_at", "record_hash"]
        read_only_fields = fields


class SignedInputSerializer(serializers.Serializer):
    """Fields of a request that the caller signs electronically (21 CFR 11.50/11.70)."""

    signature_password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=4096,
        style={"input_type": "password"},
        help_text="The caller's own password, re-entered to sign this act. "
        "Missing or wrong: 403 `signature_refused` naming this field, and nothing changes.",
    )
    signature_meaning = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="What the signature means, recorded with it (a default naming the act when empty).",
    )
