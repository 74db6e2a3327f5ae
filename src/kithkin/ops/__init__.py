"""Looking after a deployment: encrypted, verified backups, and restoring them."""
