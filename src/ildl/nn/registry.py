"""Names of the Keras-style options: one lookup for activations, initializers, losses,
regularizers and optimizers.

``Dense(8, activation="relu")``, ``compile(optimizer="Adam", loss="mse")`` and a saved model file
all name such objects. Each of the five modules keeps one ``Registry`` of its classes, and its
``get``, ``names``, ``serialize`` and ``deserialize`` are that registry's::

    >>> from ildl.nn import activations
    >>> activations.get("ReLU")                     # names ignore case, as Keras does for "Adam"
    <activation relu>
    >>> activations.serialize(activations.LeakyReLU(0.1))
    {'name': 'leaky_relu', 'config': {'negative_slope': 0.1}}
    >>> activations.get({"name": "leaky_relu", "config": {"negative_slope": 0.1}})
    <activation leaky_relu>

A registered class has a class attribute ``name`` and a ``get_config()`` that returns its
constructor arguments as JSON values, so ``cls(**obj.get_config())`` rebuilds ``obj``; the saved
form of every object is ``{"name": ..., "config": {...}}``.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Generic, TypeVar

from ..errors import ArgumentError
from ..validation import did_you_mean

T = TypeVar("T")


class Registry(Generic[T]):
    """The classes of one kind of object (``kind``, e.g. ``"activation"``), found by name.

    ``base`` is their common base class: objects of it are passed through by ``get``.
    ``aliases`` maps further accepted names to registered ones (``{"silu": "swish"}``).
    """

    def __init__(self, kind: str, base: type[T], classes: Iterable[type[T]],
                 aliases: dict[str, str] | None = None):
        self.kind = kind
        self.base = base
        self._classes = {cls.name: cls for cls in classes}
        self._aliases = dict(aliases or {})
        self._by_lowercase_name = {name.lower(): self._classes[self._aliases.get(name, name)]
                                   for name in self.names()}

    def names(self) -> list[str]:
        """Every name ``get`` accepts (aliases included), sorted."""
        return sorted([*self._classes, *self._aliases])

    def get(self, identifier: str | dict | T) -> T:
        """The object for a name (with the class's defaults), a ``serialize`` dict, or an object
        of the base class (returned as it is)."""
        if isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, str):
            return self._class_named(identifier)()
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        raise ArgumentError(
            f"a {self.kind} must be given by name ({self._listed()}), as a {{'name': ..., "
            f"'config': {{...}}}} dict or as an {self._base_path()} object, got "
            f"{type(identifier).__name__} {identifier!r}")

    def serialize(self, obj: T) -> dict:
        """``{"name": ..., "config": {...}}``, JSON-ready; ``deserialize`` turns it back into an
        equal object."""
        return {"name": obj.name, "config": obj.get_config()}

    def deserialize(self, description: dict) -> T:
        """The object that ``serialize`` described."""
        if not isinstance(description, dict) or not isinstance(description.get("name"), str) \
                or not set(description) <= {"name", "config"}:
            raise ArgumentError(
                f"a {self.kind} description must be a dict {{'name': ..., 'config': {{...}}}} "
                f"with a name among {self._listed()}, got {description!r}")
        cls = self._class_named(description["name"])
        config = description.get("config", {})
        accepted = list(inspect.signature(cls).parameters)
        if not isinstance(config, dict) or not set(config) <= set(accepted):
            raise ArgumentError(
                f"{self.kind} {cls.name!r} takes the arguments ({', '.join(accepted)}) but its "
                f"config is {config!r}; use those names, as {self.base.__module__}.serialize() "
                "writes them")
        return cls(**config)

    def _class_named(self, name: str) -> type[T]:
        cls = self._by_lowercase_name.get(name.lower())
        if cls is None:
            raise ArgumentError(f"unknown {self.kind} {name!r}{did_you_mean(name, self.names())}; "
                                f"expected one of {self._listed()}")
        return cls

    def _listed(self) -> str:
        return ", ".join(self.names())

    def _base_path(self) -> str:
        return f"{self.base.__module__}.{self.base.__name__}"
