"""A griffe extension that lets mkdocstrings read hf_lr's docstrings, written in Transformers' dialect.

Two differences from the Google style that griffe parses, handled here so the sources stay as they are:

- ``Example:`` (Transformers' heading) becomes ``Examples:``, so the doctests render as code blocks instead of as an
  admonition whose ``>>>`` lines Markdown would read as nested quotes;
- an argument's or attribute's type in Transformers' words (``name (`int`, *optional*, defaults to 0):``) is
  dropped, so the reference shows the annotation of the signature (typed, linked) and the default from it; an
  exception's name in ``Raises:`` loses its backticks, so griffe reads it as the exception;
- Sphinx roles (``:func:`~hf_lr.warmup```, ``:class:`Schedule```) become inline code showing the name as Sphinx
  would (the last component after ``~``, the explicit title of ``title <target>``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE_HEADING = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
_TYPED_ITEM = re.compile(r"^(\s+\w+) \(`.*?\):", re.MULTILINE)
_RAISED = re.compile(r"^(\s+)`(\w+)`:", re.MULTILINE)
_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc|obj):`([^`]+)`")


def _role_text(match: re.Match[str]) -> str:
    target = match.group(1)
    titled = re.fullmatch(r"(.+?)\s*<(.+)>", target)
    if titled:
        return f"`{titled.group(1)}`"
    if target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    return f"`{target}`"


def convert(text: str) -> str:
    """The docstring ``text`` with Transformers' ``Example:`` heading and Sphinx roles in griffe's Markdown terms."""
    text = _EXAMPLE_HEADING.sub(r"\1Examples:", text)
    text = _RAISED.sub(r"\1\2:", _TYPED_ITEM.sub(r"\1:", text))
    return _ROLE.sub(_role_text, text)


class TransformersDialect(griffe.Extension):
    """Rewrites each docstring once, when griffe creates the object it belongs to."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
