"""The journal of every change, and its replay into another store."""
