"""The transparency log, as values: no I/O, no SQL, no web framework.

- :mod:`~rirport.log.merkle`: RFC 9162 §2.1 hashing, inclusion and consistency proofs and
  their verification;
- :mod:`~rirport.log.tree`: a tree held as its complete subtrees (what storage persists);
- :mod:`~rirport.log.entries`: the bytes of an entry (the journal export line);
- :mod:`~rirport.log.note`: C2SP signed notes, Ed25519 keys, cosignatures;
- :mod:`~rirport.log.checkpoint`: C2SP checkpoints with the state-root extension line;
- :mod:`~rirport.log.tiles`: C2SP tlog-tiles paths, hash tiles, entry bundles;
- :mod:`~rirport.log.state`: the state root's canonical order.

The use cases (keys on disk, the tree in the store, checkpoints per write, mirrors,
witnesses) are :mod:`rirport.services.transparency`.
"""
