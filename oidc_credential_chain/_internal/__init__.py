"""Private helpers; nothing here is a public API."""
