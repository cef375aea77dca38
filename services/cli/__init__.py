"""The command-line tools: `isf ...` (commands), the bench, the embedded runner of the whole stack, the
redrive of set-aside items.

None of this runs inside a service: the image leaves this package out.
"""

from .commands import main, write_schemas

__all__ = ["main", "write_schemas"]
