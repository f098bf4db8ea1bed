"""crmclean: keep CRM data clean."""

__version__ = "0.1.0"
