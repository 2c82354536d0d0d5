"""The co-search: datasets, QAT models and training. Depends on hil; hil never imports search."""
