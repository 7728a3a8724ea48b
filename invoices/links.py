"""Signed, expiring download links for invoice PDFs (the API's file_url; no login needed)."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "invoices.pdf"


def pdf_token(document_lago_id: str) -> str:
    return signing.TimestampSigner(salt=SALT).sign(str(document_lago_id))


def pdf_token_valid(document_lago_id: str, token: str) -> bool:
    """True when the token was made for this document less than DOCUMENT_LINK_MAX_AGE ago."""
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(
            token, max_age=settings.DOCUMENT_LINK_MAX_AGE_SECONDS
        )
    except signing.BadSignature:
        return False
    return value == str(document_lago_id)


def pdf_url(invoice, request=None) -> str:
    """Absolute URL: from the request when there is one, else PUBLIC_BASE_URL."""
    path = reverse("invoice-pdf", args=[invoice.lago_id]) + f"?token={pdf_token(invoice.lago_id)}"
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def credit_note_pdf_url(note, request=None) -> str:
    path = reverse("credit-note-pdf", args=[note.lago_id]) + f"?token={pdf_token(note.lago_id)}"
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
