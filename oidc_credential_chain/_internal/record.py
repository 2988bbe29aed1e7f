"""Frozen value types that cost next to nothing to define.

The credential path's modules load in every process that gets credentials from a spec,
often a process that makes one call and exits (``credential_process``, a cold start).
``dataclasses.dataclass`` compiles each generated method from source text when a class is
defined: about 0.4 ms and 70 objects per class, which for the fifteen value types of that
path was half the library's import time, and pushed a one-shot process into a full
garbage collection.  :class:`Record` gives the same declarations the same behaviour from
methods defined once, here.

A subclass declares its fields as annotations, with defaults as class attributes; it gets
an ``__init__`` taking them positionally or by name, ``__eq__`` and ``__hash__`` over the
fields, a ``ClassName(field=value, ...)`` repr (a subclass's own ``__repr__`` wins), and
immutability (``dataclasses.FrozenInstanceError``).  ``__post_init__`` runs after
``__init__``.  Type checkers read it as a frozen dataclass (PEP 681).

Example::

    class Point(Record):
        x: int
        y: int = 0

    Point(1) == Point(x=1, y=0)  # True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**kwargs: Any) -> Any:
        return lambda cls: cls


_MISSING: Any = object()


class _Signature:
    """``inspect.signature(SomeRecord)``: the fields as parameters, built when first asked."""

    def __get__(self, instance: object, owner: type[Record]) -> Any:
        import inspect

        annotations: dict[str, Any] = {}
        for cls in reversed(owner.__mro__):
            annotations.update(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063
        return inspect.Signature(
            [
                inspect.Parameter(
                    name,
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    default=owner._defaults.get(name, inspect.Parameter.empty),
                    annotation=annotations.get(name, inspect.Parameter.empty),
                )
                for name in owner._fields
            ],
            return_annotation=None,
        )


@dataclass_transform(frozen_default=True, eq_default=True)
class Record:
    """Base of the library's frozen value types; see the module's docstring."""

    #: Field names in declaration order, base classes' first.
    _fields: ClassVar[tuple[str, ...]] = ()
    #: Defaults by field name.
    _defaults: ClassVar[dict[str, Any]] = {}
    __signature__: ClassVar[Any] = _Signature()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = list(cls._fields)
        defaults = dict(cls._defaults)
        # This class's own annotations only (inspect.get_annotations would import inspect).
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            if name not in fields:
                fields.append(name)
            if name in cls.__dict__:
                defaults[name] = cls.__dict__[name]
        cls._fields = tuple(fields)
        cls._defaults = defaults
        setattr(cls, "__match_args__", cls._fields)  # noqa: B010 - type checkers synthesize it

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(
                f"{type(self).__qualname__}() takes {len(fields)} arguments but {len(args)} were given"
            )
        values = dict(zip(fields, args, strict=False))
        for name, value in kwargs.items():
            if name not in fields:
                raise TypeError(f"{type(self).__qualname__}() got an unexpected argument {name!r}")
            if name in values:
                raise TypeError(f"{type(self).__qualname__}() got multiple values for argument {name!r}")
            values[name] = value
        for name in fields[len(args) :]:
            if name not in values:
                default = self._defaults.get(name, _MISSING)
                if default is _MISSING:
                    raise TypeError(f"{type(self).__qualname__}() missing required argument {name!r}")
                values[name] = default
        self.__dict__.update(values)
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def _values(self) -> tuple[Any, ...]:
        return tuple(self.__dict__[name] for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={self.__dict__[name]!r}" for name in self._fields)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise _frozen(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise _frozen(f"cannot delete field {name!r}")


def _frozen(message: str) -> Exception:
    import dataclasses

    return dataclasses.FrozenInstanceError(message)


__all__ = ["Record"]
