"""`hil search`: (to be filled in)."""
