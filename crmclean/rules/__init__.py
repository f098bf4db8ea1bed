"""Built-in rules: importing this package registers every rule module."""
