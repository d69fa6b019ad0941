"""The Discord adapter: a thin layer that turns questions into retrieval hits and hits into replies."""
