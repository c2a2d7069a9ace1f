"""A command tree built as far as an invocation needs it (issue 18, "Start-up").

Typer turns a whole app into Click commands before it parses anything: each of lettr's hundred
commands has its signature read and its annotations evaluated, a twentieth of a second at every
start, for the one command that runs. Here each group is built with its commands left as typer
registered them, and a command (or a sub-group, which does the same one level down) is built
by typer's own functions the first time the group is asked for it: `lettr config get KEY`
builds the root, ``config`` and ``get``; `lettr --help` builds the root and the groups' shells
for their one-line help. What gets built, and so every help text and every parse, is what typer
builds; ``tests/test_help_texts.py`` compares every help with the eager tree's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, MutableMapping
from importlib import import_module
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_command_name, get_group_from_info
from typer.models import CommandFunctionType, CommandInfo, TyperInfo

Builder = Callable[[], Any]


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name, in the order typer would list them; each is built on first
    use and kept."""

    def __init__(self, builders: dict[str, Builder]) -> None:
        self._builders = builders
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = self._builders[name]()
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._builders[name] = lambda: command
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._builders[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


class LazyGroup(TyperGroup):
    """A group whose commands come from its ``LazyTyper`` (``source``), built when asked for."""

    source: ClassVar[LazyTyper | None] = None

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        if self.source is not None:
            self.commands = LazyCommands(self.source.builders(self))

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # the names only: nothing is built to list them


class LazyTyper(typer.Typer):
    """A typer app whose commands and sub-apps typer does not build with the app: it keeps
    their registrations (typer's own ``CommandInfo`` and ``TyperInfo``) for its ``LazyGroup``,
    which builds each on demand with typer's functions. ``command_from`` and ``typer_from``
    register a command or a sub-app by where it is (``"module:name"``): its module is imported
    only when it is built, so `lettr config get` does not import the other commands' modules."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        group_class = self.info.cls
        assert isinstance(group_class, type) and issubclass(group_class, LazyGroup)
        # The class typer instantiates for this app, bound to it (typer passes it no app).
        self.info.cls = type(group_class.__name__, (group_class,), {"source": self})
        self.deferred_commands: dict[str, Callable[[], CommandInfo]] = {}
        self.deferred_groups: dict[str, Callable[[], TyperInfo]] = {}

    def command(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunctionType], Any]:
        register = super().command(*args, **kwargs)

        def defer(function: CommandFunctionType) -> CommandFunctionType:
            register(function)
            info = self.registered_commands.pop()
            name = info.name or get_command_name(function.__name__)
            self.deferred_commands[name] = lambda: info
            return function

        return defer

    def add_typer(self, typer_instance: typer.Typer, **kwargs: Any) -> None:
        name = kwargs.get("name")
        if not name:
            raise ValueError("a lazy sub-app needs its name")  # typer would merge it instead
        super().add_typer(typer_instance, **kwargs)
        info = self.registered_groups.pop()
        self.deferred_groups[name] = lambda: info

    def command_from(self, name: str, where: str) -> None:
        """Register the function at ``where`` as the command ``name``, imported when built."""

        def info() -> CommandInfo:
            self.command(name)(_load(where))
            return self.deferred_commands[name]()

        self.deferred_commands[name] = info

    def typer_from(self, name: str, where: str, *, also: tuple[str, ...] = ()) -> None:
        """Register the app at ``where`` as the group ``name``, imported when built, with the
        modules ``also`` that add commands to it."""

        def info() -> TyperInfo:
            sub_app = _load(where)
            for module in also:
                import_module(module)
            self.add_typer(sub_app, name=name)
            return self.deferred_groups[name]()

        self.deferred_groups[name] = info

    def builders(self, group: TyperGroup) -> dict[str, Builder]:
        """A builder per command, then per sub-group (typer's order), each as typer builds it
        within ``group``."""
        markup = group.rich_markup_mode
        short = self.pretty_exceptions_short
        found: dict[str, Builder] = {}
        for name, command in self.deferred_commands.items():
            found[name] = _command_builder(command, short, markup)
        for name, sub in self.deferred_groups.items():
            suggest = getattr(group, "suggest_commands", True)  # typer < 0.16 has none
            found[name] = _group_builder(sub, short, markup, suggest)
        return found


def _load(where: str) -> Any:
    module, _, name = where.partition(":")
    return getattr(import_module(module), name)


def _command_builder(info: Callable[[], CommandInfo], short: bool, markup: Any) -> Builder:
    return lambda: get_command_from_info(
        info(), pretty_exceptions_short=short, rich_markup_mode=markup
    )


def _group_builder(
    info: Callable[[], TyperInfo], short: bool, markup: Any, suggest: bool
) -> Builder:
    options: dict[str, Any] = {"pretty_exceptions_short": short, "rich_markup_mode": markup}
    if "suggest_commands" in _GROUP_PARAMETERS:
        options["suggest_commands"] = suggest
    return lambda: get_group_from_info(info(), **options)


_GROUP_PARAMETERS = inspect.signature(get_group_from_info).parameters
