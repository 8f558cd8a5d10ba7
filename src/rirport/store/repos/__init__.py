"""Repositories: the only code that writes SQL. Services reach them through a unit of work.

Rows come back as small dataclasses of plain values; turning a stored ``record`` line into a
:class:`~rirport.domain.delegation.Delegation` is the services' job (with the format reader).
"""
