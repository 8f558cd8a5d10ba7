"""Transfers: facts for the policy engine, the lifecycle, legal holds, portability and
reconciling published transfer logs."""
