"""The base every layer shares: error kinds, vocabulary, calendar, settings, formatting, text
checks and CSV exports."""
