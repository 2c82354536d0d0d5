"""`hil farm`: (to be filled in)."""
