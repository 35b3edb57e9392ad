"""Serializers of a hold's release: signed electronically, and shown with its signature."""

from __future__ import annotations

from rest_framework import serializers

from inventory.api.stock_serializers import HoldSerializer
from mes.api.signatures import SignatureSerializer, SignedInputSerializer
from mes.signatures import signatures_of


class HoldReleaseSerializer(SignedInputSerializer):
    reason = serializers.CharField(max_length=500)


class HoldDetailSerializer(HoldSerializer):
    release_signature = serializers.SerializerMethodField(
        help_text="The electronic signature of the release: signer, meaning, time, hash of the signed hold."
    )

    class Meta(HoldSerializer.Meta):
        fields = [*HoldSerializer.Meta.fields, "release_signature"]
        read_only_fields = [*HoldSerializer.Meta.read_only_fields, "release_signature"]

    def get_release_signature(self, hold) -> SignatureSerializer(allow_null=True):
        if hold.status != hold.Status.RELEASED:
            return None
        signature = signatures_of(record_type="hold", record_id=hold.pk).last()
        return SignatureSerializer(signature).data if signature else None
