"""``python -m rirport``."""

from rirport.cli.main import main

main()
