"""The retrieval service: `python -m retrieval serve` answers over HTTP what the command line answers with --json."""
