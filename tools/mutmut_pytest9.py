"""A pytest plugin for `make mutation` only: mutmut 3.7 (the newest release that faust-streaming's pin of click
allows) reads `Item._nodeid`, which pytest 9 renamed to the public `nodeid`."""

from _pytest.nodes import Node

if not hasattr(Node, "_nodeid"):
    Node._nodeid = property(lambda self: self.nodeid)  # type: ignore[attr-defined]
