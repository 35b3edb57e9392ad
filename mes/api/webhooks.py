"""``/api/v1/webhooks/``: subscriptions, their delivery log, and replay."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from mes.api.permissions import INTEGRATION, PLANNER
from mes.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from mes.webhooks import services


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=True, default=list)
    secret = serializers.CharField(write_only=True, required=False, max_length=200)

    class Meta:
        model = WebhookSubscription
        fields = [
            "id", "url", "description", "event_types", "secret", "is_active", "cursor",
            "failing_since", "disabled_at", "disabled_reason", "created_at",
        ]
        read_only_fields = ["id", "is_active", "cursor", "failing_since", "disabled_at", "disabled_reason", "created_at"]


class CreatedWebhookSubscriptionSerializer(WebhookSubscriptionSerializer):
    """The answer to a create: the only time the signing secret is shown."""

    secret = serializers.CharField(read_only=True)


class WebhookReplaySerializer(serializers.Serializer):
    from_sequence = serializers.IntegerField(min_value=1)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "error", "duration_ms"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.type", read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "event", "sequence", "event_type", "status", "attempts", "next_attempt_at", "delivered_at", "attempt_log",
        ]


class WebhookSubscriptionViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = WebhookSubscription.objects.all()
    serializer_class = WebhookSubscriptionSerializer
    read_roles = frozenset({INTEGRATION, PLANNER})
    write_roles = frozenset({INTEGRATION})

    @extend_schema(responses={201: CreatedWebhookSubscriptionSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.webhook_subscription_create(**serializer.validated_data, user=request.user)
        return Response(CreatedWebhookSubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = services.webhook_subscription_update(
            subscription=serializer.instance, data=serializer.validated_data, user=self.request.user
        )

    @extend_schema(
        request=WebhookReplaySerializer,
        responses={200: WebhookSubscriptionSerializer},
        description="Deliver again every matching event from `from_sequence` on; re-enables a disabled subscription.",
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        body = WebhookReplaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        subscription = services.webhook_subscription_replay(
            subscription=self.get_object(), from_sequence=body.validated_data["from_sequence"], user=request.user
        )
        return Response(WebhookSubscriptionSerializer(subscription).data)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        subscription = self.get_object()
        queryset = (
            subscription.deliveries.select_related("event").prefetch_related("attempt_log").order_by("-sequence")
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
