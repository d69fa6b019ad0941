"""What several test modules share: documents made with real libraries, config files written for a test."""
