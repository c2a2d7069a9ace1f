"""A property that a contact has no value for, as merge tags see it.

It is undefined to Jinja, so ``{{ city | default("your city") }}``, ``{{ city or "x" }}``,
``{% if city %}`` and ``city is defined`` all see a missing value; printed as a plain
``{{ city }}`` it shows the property's fallback, else nothing. Everything else (``~``, methods,
comparisons, ``length``) treats it as that fallback text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import Undefined


class Missing(Undefined):
    __slots__ = ("fallback",)

    def __init__(self, name: str, fallback: str) -> None:
        super().__init__(name=name)
        self.fallback = fallback

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__" and name[-2:] == "__":
            raise AttributeError(name)
        try:
            return getattr(self.fallback, name)
        except AttributeError:
            raise self._undefined_exception(
                f"{self._undefined_name!r} has no attribute {name!r}"
            ) from None

    def __str__(self) -> str:
        return self.fallback

    def __repr__(self) -> str:
        return repr(self.fallback)

    def __len__(self) -> int:
        return len(self.fallback)

    def __iter__(self) -> Iterator[str]:
        return iter(self.fallback)

    def __contains__(self, item: Any) -> bool:
        return item in self.fallback

    def __getitem__(self, key: Any) -> Any:
        return self.fallback[key]

    def __eq__(self, other: Any) -> bool:
        return bool(self.fallback == plain(other))

    def __ne__(self, other: Any) -> bool:
        return bool(self.fallback != plain(other))

    def __hash__(self) -> int:
        return hash(self.fallback)

    def __lt__(self, other: Any) -> bool:  # type: ignore[override]
        return bool(self.fallback < plain(other))

    def __le__(self, other: Any) -> bool:  # type: ignore[override]
        return bool(self.fallback <= plain(other))

    def __gt__(self, other: Any) -> bool:  # type: ignore[override]
        return bool(self.fallback > plain(other))

    def __ge__(self, other: Any) -> bool:  # type: ignore[override]
        return bool(self.fallback >= plain(other))

    def __add__(self, other: Any) -> Any:
        return self.fallback + plain(other)

    def __radd__(self, other: Any) -> Any:
        return plain(other) + self.fallback

    def __mod__(self, other: Any) -> Any:
        return self.fallback % other

    def __int__(self) -> int:  # type: ignore[override]
        return int(self.fallback)

    def __float__(self) -> float:  # type: ignore[override]
        return float(self.fallback)


def plain(value: Any) -> Any:
    """``value``, with a missing property replaced by its fallback text."""
    return value.fallback if isinstance(value, Missing) else value
