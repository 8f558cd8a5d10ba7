"""Registry data in and out: ingest (with versioning), the bundled files, IANA, sync (the latest
files and the archive), export and the main job."""
