"""RDAP (RFC 7480, 9082, 9083, 9224, 9910) over the current view of all five registries."""
