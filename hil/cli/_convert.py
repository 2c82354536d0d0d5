"""`hil convert`."""
