"""The domain: names, scopes, permissions, errors and plain data. No I/O, no frameworks."""
