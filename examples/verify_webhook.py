"""Checks an smsgate webhook's Smsgate-Signature header (standard library only).

docs/api.md ("Verifying the signature") quotes verify_webhook() from this file. Run as a
script it reads the secret from $SMSGATE_WEBHOOK_SECRET, the header from the first
argument and the body from stdin, and exits 0 when the signature is valid, 1 when not:

    printf %s "$BODY" | SMSGATE_WEBHOOK_SECRET=... python3 verify_webhook.py "$HEADER"
"""

import hashlib
import hmac
import time


def verify_webhook(secret: bytes, header: str, body: bytes, tolerance: int = 300) -> bool:
    """True when `header` (the Smsgate-Signature value) signs the raw `body` with
    `secret` and was made within `tolerance` seconds of now."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    signed = str(timestamp).encode() + b"." + body
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


if __name__ == "__main__":
    import os
    import sys

    secret = os.environb[b"SMSGATE_WEBHOOK_SECRET"]
    ok = verify_webhook(secret, sys.argv[1], sys.stdin.buffer.read())
    sys.exit(0 if ok else 1)
