"""Standardization rules (one module per field family); importing registers them."""
