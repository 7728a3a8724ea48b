"""Bearer API key authentication for /api/v1."""

from rest_framework import authentication, exceptions

from core.auditing import Actor, set_actor
from core.selectors import api_key_find_active
from core.services import api_key_touch


class ApiKeyUser:
    """The principal of an API request: the key, not a Django user."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key):
        self.api_key = api_key

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`; unknown or revoked keys answer 401."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        if scheme.lower() != "bearer" or not raw_key.strip():
            raise exceptions.AuthenticationFailed()
        key = api_key_find_active(raw_key=raw_key.strip())
        if key is None:
            raise exceptions.AuthenticationFailed()
        api_key_touch(key=key)
        set_actor(Actor(f"api-key:{key.prefix} ({key.name})"[:255], "api"))  # reset per request
        return ApiKeyUser(key), key

    def authenticate_header(self, request) -> str:
        return self.keyword
