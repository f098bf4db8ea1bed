"""Built-in rules: importing this package registers every rule module."""

from crmclean.rules import checks, standardizers  # noqa: F401  (registration side effects)
