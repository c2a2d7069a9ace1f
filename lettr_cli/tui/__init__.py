"""The Textual wizard (`lettr wizard`): Lettr's four-step campaign builder. A face: it calls the
services below it and holds no rule of its own; it never imports ``cli``."""
