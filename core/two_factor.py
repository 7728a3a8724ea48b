"""TOTP two-factor authentication (django-otp) for portal users and staff: set up with an
app from a QR code (drawn by segno as inline SVG, no external service), asked at login."""

import base64

import segno
from django.contrib.auth import get_user_model
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "portal"


def has_device(user) -> bool:
    return user_has_device(user, confirmed=True)


def pending_user(user_id):
    """The user who gave the right password and still owes a code."""
    if user_id is None:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return user if user is not None and hasattr(user, "portal_account") else None


def matching_device(user, code: str):
    """The confirmed device this code is valid for (each code works once), else None."""
    return match_token(user, (code or "").replace(" ", ""))


def unconfirmed_device(user) -> TOTPDevice:
    """The device being set up: one per user until confirmed (reloading keeps its secret)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def confirm(request, device: TOTPDevice, code: str) -> bool:
    """A right code from the app turns the device on, for this session too."""
    if not device.verify_token((code or "").replace(" ", "")):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    return True


def remove(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()


def secret(device: TOTPDevice) -> str:
    """The key in base32, grouped by four, for typing into an app by hand."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL (issuer OTP_TOTP_ISSUER) as a QR code, inline SVG markup."""
    code = segno.make(device.config_url, error="m")
    return mark_safe(code.svg_inline(scale=4, dark="#111", light="#fff"))  # noqa: S308
