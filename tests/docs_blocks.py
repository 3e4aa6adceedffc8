"""The Python blocks of the README and the guide, and a runner that executes one file's blocks as a reader would.

A block is a fenced code block at the start of a line: `` ```python `` blocks are executed, `` ```pycon `` blocks
(``>>>`` sessions) are run as doctests, so their printed output is checked too. Blocks of one file run in order in
one namespace, so a later block may use what an earlier one defined, exactly as a reader pasting them one after the
other. A block that cannot run here (it needs the network, a launcher or several processes) is marked by an HTML
comment on the line right before its fence, ``<!-- not-run: the reason -->``; it is still compiled.

Run as a script, ``python docs_blocks.py FILE.md`` executes FILE's runnable blocks in the current directory and
prints ``docs-blocks: ran N`` at the end; tests/test_docs.py runs it in a fresh interpreter per file, in a temporary
directory, offline.
"""

from __future__ import annotations

import dataclasses
import doctest
import re
import sys
from pathlib import Path

RUN_LANGUAGES = ("python", "pycon")
_FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)")
_NOT_RUN = re.compile(r"^<!--\s*not-run:(.*?)-->\s*$")
DONE = "docs-blocks: ran"


@dataclasses.dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the first line of code
    language: str
    source: str
    not_run: str | None  # the reason, for a block marked not-run

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def extract(path: Path) -> list[Block]:
    """The ``python``/``pycon`` blocks of a Markdown file, in order (an unclosed fence is an error)."""
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        ticks, language = opening.groups()
        end = next(
            (i for i in range(index + 1, len(lines)) if lines[i].startswith(ticks) and not lines[i].strip("`")), None
        )
        if end is None:
            raise ValueError(f"{path}:{index + 1}: a ``` fence is never closed")
        if language in RUN_LANGUAGES:
            previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
            marker = _NOT_RUN.match(previous.strip())
            reason = marker.group(1).strip() if marker else None
            if marker and not reason:
                raise ValueError(f"{path}:{index}: a not-run marker must give its reason: <!-- not-run: why -->")
            blocks.append(Block(Path(path), index + 2, language, "\n".join(lines[index + 1 : end]) + "\n", reason))
        index = end + 1
    return blocks


def not_run_markers(path: Path) -> int:
    """How many not-run markers the file has (each must stand right before a python/pycon block)."""
    return sum(1 for line in Path(path).read_text(encoding="utf-8").split("\n") if _NOT_RUN.match(line.strip()))


def check_syntax(block: Block) -> None:
    """Compiles a block (a pycon block: each of its examples), raising SyntaxError with the file and line."""
    if block.language == "python":
        compile(block.source, block.where, "exec")
        return
    for example in doctest.DocTestParser().get_examples(block.source):
        compile(example.source, f"{block.path}:{block.line + example.lineno}", "exec")


def run(path: Path) -> int:
    """Executes the runnable blocks of ``path`` in order in one namespace; returns how many ran."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    ran = 0
    for block in extract(path):
        if block.not_run is not None:
            continue
        print(f"--- {block.where} ({block.language})", flush=True)
        if block.language == "python":
            exec(compile(block.source, block.where, "exec"), namespace)
        else:
            test = doctest.DocTestParser().get_doctest(block.source, namespace, block.where, str(path), block.line - 1)
            runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
            result = runner.run(test, clear_globs=False)
            if result.failed:
                raise AssertionError(f"{block.where}: {result.failed} of {result.attempted} examples failed")
        ran += 1
    return ran


if __name__ == "__main__":
    count = run(Path(sys.argv[1]))
    print(f"{DONE} {count}", flush=True)
