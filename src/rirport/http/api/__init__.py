"""The JSON API beside RDAP: bulk lookups, stats, integrity, portability, the journal."""
