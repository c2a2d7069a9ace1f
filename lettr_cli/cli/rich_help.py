"""Typer's Rich help without the two Rich modules it never uses for lettr's help (issue 18,
"Start-up").

``typer.rich_utils``, which typer imports to print any help or usage error, imports
``rich.markdown`` (markdown-it with it) and ``rich.traceback`` (pygments, ``rich.pretty``,
attrs) at its top: about 36 ms of the 150 that `lettr --help` took. lettr writes its help in
Rich markup, never in Markdown, and turns typer's pretty exceptions off, so neither is used to
print a help or an error.

``defer()`` puts a finder in front of the import system that acts on ``typer.rich_utils``
only, once: while that module runs, the two names resolve to stand-ins whose classes import
the real module the first time they are used (a Markdown help string, a Rich traceback), so
what typer prints is unchanged (``tests/test_help_texts.py``, ``tests/test_rich_help.py``).
The stand-ins leave ``sys.modules`` as soon as ``typer.rich_utils`` is loaded, so any later
``import rich.markdown`` (the wizard's, a user's) gets the real module.
"""

from __future__ import annotations

import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

TARGET = "typer.rich_utils"


class DeferredMarkdown:
    """``rich.markdown.Markdown`` as ``typer.rich_utils`` sees it: the real one, made when
    first asked for."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from rich.markdown import Markdown

        return Markdown(*args, **kwargs)


class DeferredTraceback:
    """``rich.traceback.Traceback`` as ``typer.rich_utils`` sees it (typer calls
    ``Traceback.from_exception``)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from rich.traceback import Traceback

        return Traceback(*args, **kwargs)

    @classmethod
    def from_exception(cls, *args: Any, **kwargs: Any) -> Any:
        from rich.traceback import Traceback

        return Traceback.from_exception(*args, **kwargs)


STAND_INS = {
    "rich.markdown": ("Markdown", DeferredMarkdown),
    "rich.traceback": ("Traceback", DeferredTraceback),
}


class _Loader:
    """``typer.rich_utils``'s own loader, run with the stand-ins in ``sys.modules``. (Neither
    class derives from ``importlib.abc``: importing it costs 4 ms, a tenth of what is saved.)"""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        module: types.ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        placed: dict[str, types.ModuleType] = {}
        for name, (attribute, stand_in) in STAND_INS.items():
            if name not in sys.modules:  # already imported (the wizard's): use the real one
                placed[name] = types.ModuleType(name, "lettr's stand-in while typer loads")
                setattr(placed[name], attribute, stand_in)
                sys.modules[name] = placed[name]
        try:
            self.loader.exec_module(module)
        finally:
            for name, stand_in_module in placed.items():
                if sys.modules.get(name) is stand_in_module:
                    del sys.modules[name]

    def __getattr__(self, name: str) -> Any:  # get_source, get_code, ... for tools that ask
        return getattr(self.loader, name)


class _Finder:
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != TARGET:
            return None
        _remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = cast("Loader", _Loader(spec.loader))
        return spec


def _remove(finder: _Finder) -> None:
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)


def defer() -> None:
    """Load ``typer.rich_utils``, whenever typer first asks for it, with the stand-ins."""
    if TARGET in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
