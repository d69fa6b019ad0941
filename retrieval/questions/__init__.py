"""The questions the bot was asked: the log it keeps of them (log.py) and the report of what the sources don't
cover (report.py)."""
