"""Security headers of every /portal/ response: a strict Content-Security-Policy (every asset
from this app, no script at all: the charts are server-drawn SVG), framing only by the sites
in PORTAL_FRAME_ANCESTORS (portal_url is meant to be embedded), no referrer leak."""

from django.conf import settings

PREFIX = "/portal/"


def content_security_policy() -> str:
    ancestors = " ".join(settings.PORTAL_FRAME_ANCESTORS) or "'none'"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'none'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
        ]
    )


class PortalSecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(PREFIX):
            response["Content-Security-Policy"] = content_security_policy()
            response["Referrer-Policy"] = "same-origin"
            response["X-Content-Type-Options"] = "nosniff"
            if settings.PORTAL_FRAME_ANCESTORS:
                response.xframe_options_exempt = True  # frame-ancestors decides
        return response
