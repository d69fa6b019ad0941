"""Command-line arguments in, printed answers out: `python -m retrieval`, its commands and their rendering."""
