"""The headers every page carries: a Content-Security-Policy that allows scripts, styles,
images and fetches from this server only (no inline script, no foreign host), no framing, no
sniffing, no referrer to other sites."""

from __future__ import annotations

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
"""Headers of every HTML page (and of the page's JSON and CSV answers)."""
