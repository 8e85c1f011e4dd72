"""External published-spectrum mode: the workspace from a public data release."""
