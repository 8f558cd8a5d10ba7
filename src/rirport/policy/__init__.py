"""Policy as data: regimes of sourced rules, the engine that applies them, the RPKI
relying-party check, and the vectorised portability matrix. Pure: imports only the domain."""
