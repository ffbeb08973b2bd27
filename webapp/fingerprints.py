"""What a customer signed, fixed as text and a hash: the order's frozen terms, a delivery note.
The same data always gives the same text and the same SHA-256, so a copy can be checked later."""
import hashlib
import json


def canonical_json(data) -> str:
    """JSON with sorted keys and no spaces: the same terms always hash the same."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_of(data) -> str:
    """SHA-256 of the canonical JSON of data."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
