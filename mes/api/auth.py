"""``POST /api/v1/auth/token/``: trade a username and password for an API token; and token
authentication done once per request when a middleware needs the user before the view."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView


class ObtainTokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]
    serializer_class = AuthTokenSerializer

    @extend_schema(
        request=inline_serializer("TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}),
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


def authenticate_token_once(request):
    """The user of the request's ``Authorization: Token`` header, or None (no token, or a bad one:
    the view then answers 401 as usual). A token that authenticates is handed to the view with
    its user (DRF's forced-authentication hook on the request), so the view does not read the
    token again; the user and token are exactly those the API's token authentication (the first
    ``TokenAuthentication`` among the configured classes) would find."""
    try:
        result = _token_authentication()().authenticate(request)
    except AuthenticationFailed:
        return None
    if not result:
        return None
    user, token = result
    request._force_auth_user = user
    request._force_auth_token = token
    return user


def _token_authentication() -> type[TokenAuthentication]:
    for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        if issubclass(cls, TokenAuthentication):
            return cls
    return TokenAuthentication
