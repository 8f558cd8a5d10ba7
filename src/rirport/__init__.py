"""rirport: one registry of the five RIRs' number resources."""

__version__ = "0.1.0"
"""The package's version, declared once (``pyproject.toml`` reads it from here)."""
