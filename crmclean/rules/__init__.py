"""Rules: the base classes and registry (``base``), the built-in families (``checks``, ``standardizers``).

Importing this package registers nothing: the registry loads rules lazily through the ``crmclean.rules``
entry-point group (built-ins via :func:`crmclean.rules.builtin.rules`, plugins the same way).

What a rule plugin needs is importable from here (resolved on first use, so importing
``crmclean.rules.base`` stays cheap): ``from crmclean.rules import BaseCheck, RuleResult, findings_where``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# public name -> module that defines it
_PUBLIC = {
    "BaseCheck": "crmclean.rules.checks._common",
    "CheckContext": "crmclean.rules.checks._common",
    "CheckOptions": "crmclean.rules.checks._common",
    "ColumnEdit": "crmclean.rules.base",
    "Example": "crmclean.rules.base",
    "Rule": "crmclean.rules.base",
    "RuleContext": "crmclean.rules.base",
    "RuleOptions": "crmclean.rules.base",
    "RuleResult": "crmclean.rules.base",
    "Standardizer": "crmclean.rules.base",
    "concat_findings": "crmclean.rules.base",
    "findings_where": "crmclean.rules.base",
    "map_unique": "crmclean.rules.base",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'crmclean.rules' has no attribute {name!r}")
    return getattr(import_module(module), name)
