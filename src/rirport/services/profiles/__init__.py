"""Evidence in the store and the profiles built from it."""
