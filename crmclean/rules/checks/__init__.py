"""Validation checks (one module per family); importing registers them."""
