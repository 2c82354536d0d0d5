"""`hil measure`: (to be filled in)."""
