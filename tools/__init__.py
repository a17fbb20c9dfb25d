"""Developer commands that act on the project itself (not on its data)."""
