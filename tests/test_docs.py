"""The documentation: the site builds in strict mode, the API reference covers the public names, the README's links
resolve, and every Python block of the README and the guide runs as written (tests/docs_blocks.py)."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DOCS_BLOCKS_SUMMARY
from docs_blocks import DONE, check_syntax, extract, not_run_markers

import hf_lr

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _blocks() -> dict[Path, list]:
    return {path: extract(path) for path in DOC_FILES}


# Pages whose blocks a dedicated test runs, with stricter checks of what they print and write.
RUN_ELSEWHERE = {"docs/lightning.md": "tests/test_lightning.py::test_docs_code_blocks_run"}
RUNNABLE = [
    path
    for path, blocks in _blocks().items()
    if any(block.not_run is None for block in blocks) and _name(path) not in RUN_ELSEWHERE
]


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="the docs toolchain is declared for Python >= 3.11 (setup.cfg's docs extra)"
)
def test_docs_build_strict(tmp_path: Path) -> None:
    """``mkdocs build --strict`` (warnings are errors: broken links, unknown API names, bad docstrings) succeeds
    offline, and the reference pages hold the rendered API of every public name."""
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    html = "\n".join(page.read_text(encoding="utf-8") for page in (site / "reference").rglob("*.html"))
    missing = [name for name in _documented_names() if f'id="{name}"' not in html]
    assert not missing, f"no rendered API entry for {missing}"
    assert 'id="hf_lr.integrations.transformers.HfLrTrainer"' in html
    assert 'id="hf_lr.extension.Extension"' in html
    guide = (site / "guide" / "names" / "index.html").read_text(encoding="utf-8")
    assert "cosine_with_restarts" in guide


#: The modules whose public classes and functions the reference documents (besides the top level).
REFERENCE_MODULES = (
    "adaptive",
    "compose",
    "epochs",
    "equivalents",
    "expression",
    "extension",
    "lr_finder",
    "param_groups",
    "registry",
    "scheduler",
    "schedules",
)


def _documented_names() -> list[str]:
    """``hf_lr.NAME`` for the top level, ``hf_lr.MODULE.NAME`` for each module's own public classes and functions
    (constants, in capitals, are described in their module's text)."""
    names = [f"hf_lr.{name}" for name in hf_lr.__all__ if not name.startswith("__")]
    for module_name in REFERENCE_MODULES:
        module = importlib.import_module(f"hf_lr.{module_name}")
        names += [
            f"hf_lr.{module_name}.{name}" for name in module.__all__ if name not in hf_lr.__all__ and not name.isupper()
        ]
    return names


def test_reference_covers_all_public_names() -> None:
    """Each public name has one ``::: `` entry on a reference page: ``hf_lr.NAME`` for the top level (``__all__``),
    ``hf_lr.MODULE.NAME`` for what lives only in its module; no entry names something that is not public."""
    directives = re.findall(
        r"^::: (hf_lr\.[\w.]+)\s*$",
        "\n".join(page.read_text(encoding="utf-8") for page in (ROOT / "docs" / "reference").glob("*.md")),
        flags=re.MULTILINE,
    )
    whole_modules = {"hf_lr.extension", "hf_lr.integrations.transformers"}  # rendered whole, with their members
    documented = _documented_names()
    public = set(documented) | {
        f"hf_lr.{name}.{member}"
        for name in REFERENCE_MODULES
        for member in importlib.import_module(f"hf_lr.{name}").__all__
    }
    assert (
        sorted(name for name in set(documented) - set(directives) if name.rsplit(".", 1)[0] not in whole_modules) == []
    )
    assert sorted(set(directives) - public - whole_modules) == []
    assert len(directives) == len(set(directives)), "a name is documented twice"


def test_readme_links_resolve() -> None:
    """The README's relative links and pictures point at files of the repository (GitHub renders them as is)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'src="([^"]+)"', text)
    relative = [t.split("#")[0] for t in targets if not re.match(r"^[a-z]+:|^#", t)]
    assert relative, "the README links to the docs"
    assert [t for t in relative if not (ROOT / t).exists()] == []


def test_ci_runs_the_readme_test_command() -> None:
    """The README's set-up commands are the main job and the test command, and `.ci/run` runs exactly the latter
    first (after it, one cell of the compatibility matrix)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up commands", 1)[1].split("\n## ", 1)[0]
    main_job, tests = re.findall(r"```bash\n(.*?)\n```", section, flags=re.DOTALL)
    assert "examples/finetune.py" in main_job
    commands = [
        line
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert commands[0] == tests


def test_not_run_blocks(request: pytest.FixtureRequest) -> None:
    """A block marked ``<!-- not-run: reason -->`` gives a reason, still compiles, and each marker stands right
    before a python/pycon block; the counts are printed at the end of the run."""
    blocks = _blocks()
    marked = [block for file_blocks in blocks.values() for block in file_blocks if block.not_run is not None]
    for block in marked:
        check_syntax(block)
    assert sum(not_run_markers(path) for path in DOC_FILES) == len(marked), "a not-run marker not before a block"
    ran = sum(block.not_run is None for file_blocks in blocks.values() for block in file_blocks)
    elsewhere = {name: sum(b.not_run is None for b in blocks[ROOT / name]) for name in RUN_ELSEWHERE}
    lines = [f"docs code blocks: {ran} run, {len(marked)} marked not-run"]
    lines += [f"  {count} of them run by {RUN_ELSEWHERE[name]} ({name})" for name, count in elsewhere.items()]
    lines += [f"  not run: {block.where.replace(str(ROOT) + os.sep, '')}: {block.not_run}" for block in marked]
    request.config.stash[DOCS_BLOCKS_SUMMARY] = "\n".join(lines)
    assert ran > len(marked)


@pytest.mark.slow
@pytest.mark.parametrize("path", RUNNABLE, ids=_name)
def test_code_blocks_run(path: Path, tmp_path: Path) -> None:
    """The file's runnable blocks, pasted in order into a fresh interpreter in an empty directory, offline, run
    without an error (pycon blocks print what they show)."""
    expected = sum(block.not_run is None for block in extract(path))
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("docs_blocks.py")), str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout[-6000:] + result.stderr[-6000:]
    assert result.returncode == 0, output
    assert f"{DONE} {expected}" in result.stdout.splitlines(), output


def test_block_runner_checks_what_it_runs(tmp_path: Path) -> None:
    """The runner executes python blocks in one namespace, checks pycon output, skips (but still compiles) marked
    blocks, and fails on an error, a wrong pycon output, a marker without a reason and an unclosed fence."""
    import docs_blocks

    page = tmp_path / "page.md"
    page.write_text(
        "```python\nx = 2\n```\n\ntext\n\n```pycon\n>>> x * 3\n6\n```\n\n<!-- not-run: needs a launcher -->\n"
        "```python\nraise RuntimeError('must not run')\n```\n\n```bash\nexit 1\n```\n",
        encoding="utf-8",
    )
    blocks = docs_blocks.extract(page)
    assert [(b.line, b.language, b.not_run) for b in blocks] == [
        (2, "python", None), (8, "pycon", None), (14, "python", "needs a launcher"),
    ]  # fmt: skip
    assert docs_blocks.run(page) == 2
    assert not_run_markers(page) == 1

    failing = {
        "error": "```python\nx = 1\n```\n```python\nx = undefined_name\n```\n",
        "output": "```pycon\n>>> 1 + 1\n3\n```\n",
    }
    for text in failing.values():
        page.write_text(text, encoding="utf-8")
        with pytest.raises((NameError, AssertionError)):
            docs_blocks.run(page)
    page.write_text("<!-- not-run: -->\n```python\nx = 1\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="reason"):
        docs_blocks.extract(page)
    page.write_text("```python\nx = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="never closed"):
        docs_blocks.extract(page)
    with pytest.raises(SyntaxError):
        check_syntax(docs_blocks.Block(page, 1, "python", "def (:\n", "marked"))
