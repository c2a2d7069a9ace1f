"""lettr: marketing email campaigns from the command line."""

__version__ = "0.1.0"
