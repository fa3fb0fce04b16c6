"""One registry class for every extension point: layer kinds, objectives, strategies, ...

Each kind of component (see docs/architecture.md, "Extension points") keeps its entries by
name in a :class:`Registry`: ``register`` adds one (usable as a decorator), ``get`` finds one
and, for a name it does not know, first imports the plug-in modules
(:func:`evosearch.plugins.load_plugins`) and then refuses it with one line of the same shape
whatever the registry::

    unknown strategy 'nsga3': choose from nsga2, aging, random (did you mean 'nsga2'?)

The contract suites of :mod:`evosearch.testing` and ``evosearch plugins`` iterate over the
registries, so a component is listed and tested the moment it is registered.

Examples
--------
>>> from evosearch.errors import SettingsError
>>> colours = Registry("colour", error=SettingsError)
>>> _ = colours.register("#f00", name="red")
>>> _ = colours.register("#00f", name="blue")
>>> colours.get("red"), colours.names()
('#f00', ['red', 'blue'])
>>> colours.get("rde")
Traceback (most recent call last):
...
evosearch.errors.SettingsError: unknown colour 'rde': choose from red, blue (did you mean 'red'?)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from evosearch.errors import EvosearchError
from evosearch.plugins import load_plugins

__all__ = ["Registry", "UnknownNameError"]

T = TypeVar("T")
E = TypeVar("E")


class UnknownNameError(EvosearchError, KeyError):
    """A registry has nothing by the name asked for.

    A :class:`KeyError` (code that looks names up catches that) whose message prints as the
    one line it is, not as a quoted key.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Entries of one kind of component by name, in registration order (built-ins first).

    Parameters
    ----------
    kind : str
        What an entry is, in messages: ``"strategy"``, ``"layer kind"``, ...
    error : exception class, default UnknownNameError
        Raised, with one line, for a name that is not registered; its constructor takes the
        message (e.g. :class:`~evosearch.errors.SettingsError`).
    base : type, optional
        The contract: every entry must be a subclass of it (``instances=False``) or an instance
        of it (``instances=True``); anything else is refused with :class:`TypeError`.
    instances : bool, default False
        Whether entries are instances; a class registered is then instantiated (with no
        arguments) and the instance kept.
    validate : callable, optional
        ``validate(name, entry)`` raises (``TypeError`` or ``ValueError``) for an entry that
        breaks the contract in a way ``base`` cannot check (a reserved name, a bad direction).
    aliases : mapping of str to str, optional
        Old names read as today's (``{"n_params": "params"}``); an alias cannot be registered.
    replace : bool, default True
        Whether registering a name again replaces the entry (a reloaded plug-in module); with
        False a different entry under a taken name is refused with :class:`ValueError`.
    """

    def __init__(
        self,
        kind: str,
        *,
        error: Callable[[str], Exception] = UnknownNameError,
        base: type | None = None,
        instances: bool = False,
        validate: Callable[[str, T], None] | None = None,
        aliases: Mapping[str, str] | None = None,
        replace: bool = True,
    ) -> None:
        self.kind = kind
        self.error = error
        self.base = base
        self.instances = instances
        self.validate = validate
        self.aliases: dict[str, str] = dict(aliases or {})
        self.replace = replace
        self._entries: dict[str, T] = {}

    # ------------------------------------------------------------------ registering
    def register(self, obj: E, name: str | None = None) -> E:
        """Register ``obj`` under ``name`` (default: its ``name`` attribute); returns ``obj``.

        Usable as a class decorator (``@STRATEGIES.register``). With ``instances=True`` a
        class is instantiated and the instance kept.

        Parameters
        ----------
        obj : object
            The entry (a class, an instance or a function, as the registry keeps them).
        name : str, optional
            The name to register it under, where the entry has no ``name`` attribute.

        Returns
        -------
        object
            ``obj`` itself.

        Raises
        ------
        TypeError
            When the entry is not what the registry's contract (``base``) asks for, or has no
            usable name.
        ValueError
            When ``validate`` refuses it, or (``replace=False``) another entry has the name.
        """
        entry: Any = obj() if self.instances and isinstance(obj, type) else obj
        self._check_contract(obj, entry)
        key = getattr(entry, "name", None) if name is None else name
        if not isinstance(key, str) or not key or key in self.aliases:
            raise TypeError(f"a {self.kind} needs a name that is a non-empty str, got {key!r}")
        if self.validate is not None:
            self.validate(key, entry)
        known = self._entries.get(key)
        if not self.replace and known is not None and known is not entry:
            raise ValueError(f"a {self.kind} named {key!r} is registered already: {known!r}")
        self._entries[key] = entry
        return obj

    def _check_contract(self, obj: Any, entry: Any) -> None:
        if self.base is None:
            return
        if self.instances:
            if not isinstance(entry, self.base):
                raise TypeError(f"{obj!r} is not a {self.base.__name__} (a {self.kind})")
        elif not (isinstance(entry, type) and issubclass(entry, self.base)):
            raise TypeError(f"{obj!r} is not a {self.base.__name__} subclass (a {self.kind})")

    def unregister(self, name: str) -> None:
        """Forget the entry called ``name`` (nothing if there is none)."""
        self._entries.pop(name, None)

    @contextmanager
    def scratch(self) -> Iterator[Registry[T]]:
        """A block whose registrations are undone when it ends (for tests).

        Examples
        --------
        >>> numbers = Registry("number")
        >>> with numbers.scratch():
        ...     _ = numbers.register(1, name="one")
        >>> "one" in numbers
        False
        """
        saved = dict(self._entries)
        try:
            yield self
        finally:
            self._entries.clear()
            self._entries.update(saved)

    # ------------------------------------------------------------------ looking up
    def canonical(self, name: str) -> str:
        """Today's name for ``name`` (an alias resolved; any other name unchanged)."""
        return self.aliases.get(name, name)

    def find(self, name: Any) -> T | None:
        """The entry called ``name`` (or an alias of it), None if there is none.

        A name not registered yet makes the plug-in modules load first (see
        :func:`evosearch.plugins.load_plugins`).
        """
        try:
            return self._entries[self.aliases.get(name, name)]
        except (KeyError, TypeError):  # TypeError: an unhashable "name"
            pass
        if isinstance(name, str):
            load_plugins()
            return self._entries.get(self.aliases.get(name, name))
        return None

    def get(self, name: Any) -> T:
        """The entry called ``name`` (or an alias of it), plug-ins loaded if it is missing.

        Raises
        ------
        Exception
            The registry's ``error``, with :meth:`unknown`'s one line, if there is none.
        """
        try:
            return self._entries[self.aliases.get(name, name)]
        except (KeyError, TypeError):
            pass
        entry = self.find(name)
        if entry is None:
            raise self.error(self.unknown(name))
        return entry

    def unknown(self, name: Any) -> str:
        """The one line refusing ``name``: what it is not, the choices, the closest ones.

        Examples
        --------
        >>> Registry("backend").unknown("dsk")
        "unknown backend 'dsk': none registered"
        """
        names = self.names()
        line = f"unknown {self.kind} {name!r}: " + (
            f"choose from {', '.join(names)}" if names else "none registered"
        )
        close = difflib.get_close_matches(name, names, n=3) if isinstance(name, str) else []
        if close:
            line += f" (did you mean {' or '.join(repr(match) for match in close)}?)"
        return line

    def names(self) -> list[str]:
        """The registered names, in registration order (the built-ins first)."""
        return list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs in registration order."""
        return list(self._entries.items())

    def as_dict(self) -> dict[str, T]:
        """The entries by name, in registration order (a copy)."""
        return dict(self._entries)

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` (or an alias of it) is registered; loads no plug-in."""
        try:
            return self.aliases.get(name, name) in self._entries  # type: ignore[call-overload]
        except TypeError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<{self.kind} registry: {', '.join(self._entries) or 'empty'}>"
