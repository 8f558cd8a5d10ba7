"""Monitoring: change events, watchlists and their feeds, webhook delivery."""
