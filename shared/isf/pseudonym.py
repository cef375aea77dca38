"""Keyed-hash pseudonyms for patient identifiers (HMAC-SHA256), applied once, at ingest."""

from __future__ import annotations

import hashlib
import hmac

DEMO_KEY = b"isf-stream-embedded-demo-key-not-for-production"


def pseudonymise(patient_id: str, key: bytes) -> str:
    if not key:
        raise ValueError("pseudonymisation key is empty")
    return "p_" + hmac.new(key, patient_id.strip().encode("utf-8"), hashlib.sha256).hexdigest()[:32]
