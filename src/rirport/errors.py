"""The one exception tree of rirport.

Every error the package raises on purpose is a :class:`RirportError`; the CLI and the HTTP
edge map these classes to exit codes and status codes in one place each, most specific
class first::

    RirportError
    ├── ConfigError            bad settings (every bad key listed at once)
    ├── InputError             the caller's input is wrong
    │   ├── ParseError         one bad line or file: "source:line: reason"
    │   ├── FileRejectedError  a whole file refused, carrying every ParseError found (capped)
    │   ├── PolicyError        a regime file that does not validate: every problem, by rule
    │   └── QueryError         a lookup query that is not an address, prefix, range, ASN or id
    │       └── UnsupportedQueryError  a well-formed ask rirport does not answer (wildcards)
    │   └── VerificationError  a signature, proof, checkpoint or log entry does not verify
    │       └── SplitViewError two signed views of one log that no consistency proof joins
    ├── NotFoundError          nothing with that name or id
    ├── ConflictError          the store already holds something incompatible
    │   └── MirrorReadOnlyError  a write to a store that follows a publisher's log
    ├── DownloadError          fetching from a registry failed (status, checksum, truncation)
    ├── StorageError           the database failed; wraps the driver's exception
    │   └── StoreBusyError     another write held the store past the bounded wait
    └── AuthError              a request is not allowed (HTTP: 401, 403, 429)
        ├── AuthenticationError  no valid credentials (or bad ones): 401
        ├── PermissionDeniedError  valid credentials without the right: 403
        └── LoginThrottledError  too many failed logins; carries ``retry_after``: 429

A docstring doubles as the default message, as in dnspython.
"""

from __future__ import annotations

from collections.abc import Sequence


class RirportError(Exception):
    """rirport failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(RirportError):
    """The settings are invalid."""


class InputError(RirportError):
    """The input is invalid."""


class ParseError(InputError):
    """A line of an input file cannot be read.

    ``str()`` gives ``source:line: reason`` (``source: reason`` for file-level errors), the form
    editors and terminals link to.
    """

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


class FileRejectedError(InputError):
    """A file was refused as a whole; nothing from it was stored."""

    def __init__(
        self, source: str, errors: Sequence[ParseError], total: int | None = None, cap: int = 20
    ) -> None:
        self.source = source
        self.errors = list(errors)
        self.total = total if total is not None else len(self.errors)
        shown = [str(e) for e in self.errors[:cap]]
        more = self.total - len(shown)
        lines = [f"{source}: rejected, {self.total} error(s); nothing was stored", *shown]
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__("\n".join(lines))


class PolicyError(InputError):
    """A policy regime file is invalid.

    Carries every problem found (``file:line: rule 'id': field 'name': reason``), so a user
    fixing a regime sees them all at once rather than one per run.
    """

    def __init__(self, source: str, problems: Sequence[str], cap: int = 30) -> None:
        self.source = source
        self.problems = list(problems)
        shown = self.problems[:cap]
        more = len(self.problems) - len(shown)
        lines = [f"{source}: invalid policy regime, {len(self.problems)} problem(s)", *shown]
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__("\n".join(lines))


class QueryError(InputError):
    """The query is not an address, prefix, range, AS number or holder id."""


class UnsupportedQueryError(QueryError):
    """The query asks for something rirport does not offer."""


class VerificationError(InputError):
    """A signature, proof, checkpoint or log entry does not verify."""


class SplitViewError(VerificationError):
    """Two checkpoints of one log that no consistency proof joins: the log showed two
    histories. The message quotes both checkpoints (the evidence another party can check)."""


class NotWitnessedError(VerificationError):
    """A checkpoint has fewer valid cosignatures than the witnesses required: nothing is
    applied; a mirror that follows in a loop waits for them (the message names what is
    missing, witness by witness)."""


class NotFoundError(RirportError):
    """Nothing was found."""


class ConflictError(RirportError):
    """The store already holds something incompatible with this change."""


class MirrorReadOnlyError(ConflictError):
    """This store mirrors another instance's log: its registry data changes only by
    following the publisher, so a write here is refused (it would make the journal diverge
    from the publisher's and the next pass refuse it)."""


class DownloadError(RirportError):
    """A download from a registry failed."""


class StorageError(RirportError):
    """The database failed."""


class StoreBusyError(StorageError):
    """Another write held the store longer than a write waits (HTTP: 503, Retry-After)."""


class AuthError(RirportError):
    """The request is not allowed."""


class AuthenticationError(AuthError):
    """Authentication required: log in or send a valid API token."""


class PermissionDeniedError(AuthError):
    """Your account may not do this."""


class LoginThrottledError(AuthError):
    """Too many failed logins: wait before trying again."""

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message or f"too many failed logins; retry in {self.retry_after} s")
