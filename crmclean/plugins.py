"""Find rules and connectors through entry points, built-ins and third-party packages alike.

Two entry-point groups (declared in a package's ``pyproject.toml``):

* ``crmclean.rules`` — an object that is a rule class, an iterable of rule classes, or a function
  returning one of those (crmclean's own: ``builtin = "crmclean.rules.builtin:rules"``);
* ``crmclean.connectors`` — a connector class called as ``Cls(object_name, options)``; the entry-point
  name is the prefix users type (``salesforce:Contact``). ``file`` is the fallback for paths.

Nothing is imported until a rule or connector is needed, and a plugin that fails to load is reported
in one line naming it, never with a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

RULES_GROUP = "crmclean.rules"
CONNECTORS_GROUP = "crmclean.connectors"

# Used when crmclean runs from a source tree without installed metadata (``pip install -e .`` creates it).
_BUILTIN_FALLBACK: dict[str, dict[str, str]] = {
    RULES_GROUP: {"builtin": "crmclean.rules.builtin:rules"},
    CONNECTORS_GROUP: {
        "salesforce": "crmclean.connectors.salesforce:SalesforceConnector",
        "hubspot": "crmclean.connectors.hubspot:HubSpotConnector",
        "file": "crmclean.connectors.files:open_file_connector",
    },
}


class PluginLoadError(Exception):
    """A plugin's entry point could not be loaded; ``str()`` is the one line shown to the user."""

    def __init__(self, entry: EntryPoint, error: BaseException) -> None:
        self.entry = entry
        self.error = error
        origin = entry.dist.name if entry.dist is not None else entry.value
        super().__init__(
            f"plugin {entry.name!r} from {origin} ({entry.group} = {entry.value}) failed to load: "
            f"{type(error).__name__}: {error}"
        )


def plugin_entry_points(group: str) -> dict[str, EntryPoint]:
    """The entry points of ``group`` by name (crmclean's own built-ins are always present)."""
    found: dict[str, EntryPoint] = {
        name: EntryPoint(name=name, value=value, group=group) for name, value in _BUILTIN_FALLBACK.get(group, {}).items()
    }
    for entry in entry_points(group=group):
        found[entry.name] = entry
    return found


def load_entry_point(entry: EntryPoint) -> Any:
    """``entry.load()``, with any failure turned into :class:`PluginLoadError`."""
    try:
        return entry.load()
    except Exception as exc:
        raise PluginLoadError(entry, exc) from None


def warn(message: str) -> None:
    print(f"crmclean: warning: {message}", file=sys.stderr)


# ---------------------------------------------------------------- rules

_rules_loaded = False


def rule_classes_of(obj: Any) -> list[type]:
    """What a ``crmclean.rules`` entry point gave: a class, an iterable of classes, or a function returning them."""
    if isinstance(obj, type):
        return [obj]
    if callable(obj):
        obj = obj()
    if isinstance(obj, type):
        return [obj]
    if isinstance(obj, Iterable):
        return list(obj)
    raise TypeError(f"expected rule classes, got {type(obj).__name__}")


def load_rules(register: Callable[[Any], Any]) -> None:
    """Register the rules of every ``crmclean.rules`` entry point, once per process.

    A third-party plugin that fails (import error, not a rule class, duplicate code) is skipped with
    one warning line; a failing built-in is a bug in crmclean and raises.
    """
    global _rules_loaded
    if _rules_loaded:
        return
    _rules_loaded = True
    for name, entry in plugin_entry_points(RULES_GROUP).items():
        builtin = name == "builtin"
        try:
            classes = rule_classes_of(load_entry_point(entry))
            for cls in classes:
                if not isinstance(cls, type) or not all(hasattr(cls, a) for a in ("code", "name", "kind", "apply")):
                    raise TypeError(f"{cls!r} is not a crmclean rule class")
                register(cls)
        except PluginLoadError as exc:
            if builtin:
                _rules_loaded = False
                raise exc.error from None
            warn(str(exc))
        except Exception as exc:
            if builtin:
                _rules_loaded = False
                raise
            warn(str(PluginLoadError(entry, exc)))
