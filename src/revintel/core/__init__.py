"""Base helpers every capability and face shares: text checks and CSV exports."""
