"""The collector names its endpoint in logs through the one masking helper."""

from __future__ import annotations

from callscope.collect.transports import HttpTransport
from callscope.masking import mask_url


def test_transport_url_hides_passwords_and_bare_tokens() -> None:
    assert HttpTransport("https://agent:s3cret@ingest.example/").url == (
        "https://agent:***@ingest.example/"
    )
    assert HttpTransport("https://tok_123@ingest.example").url == "https://***@ingest.example"
    assert HttpTransport("https://ingest.example?token=abc").url == (
        "https://ingest.example?token=***"
    )


def test_mask_url_leaves_credential_free_urls_alone() -> None:
    for url in ("https://ingest.example:8780/v1/sessions", "redis://localhost:6379/0"):
        assert mask_url(url) == url
