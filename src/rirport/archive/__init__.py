"""The RIRs' archives of dated statistics files: where each registry keeps them, how to read
a folder listing, and which file stands for which day (pure; no network here)."""
