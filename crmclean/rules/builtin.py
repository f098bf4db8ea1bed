"""crmclean's own rules, handed to the registry through the ``crmclean.rules`` entry point like any plugin's."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from crmclean.rules.base import Rule

# Packages whose modules hold the built-in rule classes (one module per family).
RULE_PACKAGES = ("crmclean.rules.checks", "crmclean.rules.standardizers")


def rules() -> list[type[Rule]]:
    """Every built-in rule class: each class with its own ``code`` defined in a module of :data:`RULE_PACKAGES`."""
    found: list[type[Rule]] = []
    for package_name in RULE_PACKAGES:
        package = importlib.import_module(package_name)
        modules = [package] + [
            importlib.import_module(info.name)
            for info in pkgutil.walk_packages(package.__path__, package_name + ".")
        ]
        for module in modules:
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == module.__name__ and issubclass(cls, Rule) and "code" in vars(cls):
                    found.append(cls)
    return found


def is_builtin(cls: type) -> bool:
    """True for crmclean's own rules: generated docs (README table, rules.example.yaml) list only these."""
    return cls.__module__.startswith("crmclean.")
