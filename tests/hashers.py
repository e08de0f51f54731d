from __future__ import annotations

from django.contrib.auth.hashers import ScryptPasswordHasher


class ScryptRapido(ScryptPasswordHasher):
    """Test users only: scrypt with a tiny work factor. The hash records its own parameters, so
    the daphne processes of end-to-end tests verify it quickly with their stock scrypt hasher."""

    work_factor = 2**4
