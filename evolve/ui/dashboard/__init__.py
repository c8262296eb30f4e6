"""``evolve dashboard``: watch run directories in a browser (read-only, local)."""
