"""The read side every edge uses: the current and as-of views, the live view, lookups,
holder identity, history timelines, counts and the integrity check."""
