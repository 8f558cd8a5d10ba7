"""The log's signing key: a file in the data folder, readable by its owner only, never in the
store, the journal or an export. The store records the verifier key it is signed with (meta
``log_vkey``), so a key file from another instance is never used on this store by mistake.
"""

from __future__ import annotations

import os
from pathlib import Path

from rirport.errors import ConfigError, ConflictError, VerificationError
from rirport.log.note import Signer, Verifier, parse_skey, parse_vkey
from rirport.store.unit import Store

KEY_FILE = "log-signing.key"


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def read_signer(path: Path, what: str = "log signing key") -> Signer:
    """The key in ``path`` (``what`` names it in errors: the log's or a witness's).

    Raises:
        ConfigError: it cannot be read, is readable by others, or is not a key.
    """
    try:
        mode = path.stat().st_mode & 0o777
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror}") from exc
    if mode & 0o077:
        raise ConfigError(
            f"{path}: the {what} is readable by others (mode {mode:o}); "
            "chmod 600 it before it is used"
        )
    try:
        return parse_skey(text)
    except VerificationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def store_vkey(store: Store) -> Verifier | None:
    """The verifier key this store's checkpoints are signed with (None: no log key yet)."""
    with store.read() as uow:
        text = uow.meta.get("log_vkey")
    return parse_vkey(text) if text else None


def init(store: Store, data_dir: Path, origin: str) -> tuple[Signer, bool]:
    """Make the signing key for ``origin`` (or adopt the data folder's existing one for this
    store) and record its verifier key in the store; returns the key and whether it was
    made now.

    Raises:
        ConflictError: the store is already signed by another key, or the data folder's key
            is for another origin.
    """
    path = key_path(data_dir)
    recorded = store_vkey(store)
    made = not path.exists()
    if made:
        signer = Signer.generate(origin)
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(signer.skey() + "\n")
    else:
        signer = read_signer(path)
        if signer.name != origin:
            raise ConflictError(
                f"{path} holds the key of origin {signer.name!r}, not {origin!r}: one data "
                "folder signs one log; use another --data-dir for another origin"
            )
    if recorded is not None and recorded != signer.verifier:
        raise ConflictError(
            f"this store's log is signed by {recorded.vkey()}, not by the key in {path}; "
            "nothing was changed"
        )
    with store.transaction() as uow:
        uow.meta.put("log_vkey", signer.verifier.vkey())
    return signer, made


def attach(store: Store, data_dir: Path) -> Signer | None:
    """Let ``store`` sign a checkpoint after each write, when the data folder holds the key
    its log was initialised with (otherwise it keeps no signer and says nothing: a store
    without a log key still grows its tree)."""
    path = key_path(data_dir)
    if not path.exists():
        return None
    recorded = store_vkey(store)
    signer = read_signer(path)
    if recorded is None or recorded != signer.verifier:
        return None
    store.log_signer = signer
    return signer
