"""Registry data in and out: ingest (with versioning), the bundled files, IANA, sync, export
and the main job."""
