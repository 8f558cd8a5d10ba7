"""Accounts, member tiers and authorisation: the domain (roles as data, password and token
rules, the login throttle) and the service that writes them (:mod:`.service`)."""
