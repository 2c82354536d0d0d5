"""`hil build`: (to be filled in)."""
