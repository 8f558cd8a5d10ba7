"""The ``rirport`` command line: thin commands over the services."""
