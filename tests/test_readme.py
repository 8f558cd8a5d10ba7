"""The README (and docs/*.md) as a tested document: every command block runs, output compared.

Issue 11 #5: a README that drifts from what rirport prints fails CI. This test reads the
fenced blocks of README.md that hold commands (lines starting with ``$ ``), and those of
docs/*.md that show a command *with its output*, and runs them in order, in one scratch store
(a temporary ``RIRPORT_DATA_DIR`` and ``HOME``; the working folder has ``../shared`` pointing at
the shared data, as a checkout beside it has). All documents run in one test, in file order,
so the store is loaded once (by the README's own ``rirport ingest`` block); each document after
the README starts from a copy of the store file the README left, never a re-ingest.

Conventions, in the Markdown (docs/contributing-docs conventions are these):

* ``$ CMD`` is run with bash; what follows up to the next ``$`` line is its expected output
  (stdout and stderr together, as a terminal shows them). A block with no output lines only
  has to succeed.
* A line that is just ``...`` matches any number of lines; ``...`` inside a line matches any
  text there.
* ``# exit N`` at the end of a command line: the command must exit with status N (default 0).
  Any other trailing ``# comment`` is for the reader (bash ignores it too).
* ``<!-- readme-test: skip REASON -->`` on the line before a block: the block is not run
  (the reason is required and shown in the test's report).
* ``<!-- readme-test: as CMD -->`` before a block: run CMD instead of the block's commands
  (for a block that shows placeholders); the block's output lines are compared with CMD's.

Run time: one ingest of the shared files (the README's), then a process per command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.paths import ROOT, SHARED

BIN = ROOT / ".venv" / "bin"
MARK = re.compile(r"<!--\s*readme-test:\s*(skip|as)\s+(.*?)\s*-->")
EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
COMMENT = re.compile(r"\s+#\s.*$")


@dataclass
class Command:
    line: int
    text: str
    output: list[str] = field(default_factory=list)
    exit_code: int = 0


@dataclass
class Block:
    path: Path
    line: int
    commands: list[Command]
    skip: str | None = None
    instead: str | None = None


def blocks(path: Path) -> list[Block]:
    """The command blocks of a Markdown file, with their conventions read."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    inside, start = False, 0
    body: list[str] = []
    for n, line in enumerate(lines):
        if line.startswith("```"):
            if inside:
                block = _block(path, start, body, lines[start - 2] if start >= 2 else "")
                if block is not None:
                    out.append(block)
                inside = False
            else:
                inside, start, body = True, n + 1, []
            continue
        if inside:
            body.append(line)
    return out


def _block(path: Path, start: int, body: list[str], before: str) -> Block | None:
    if not any(line.startswith("$ ") for line in body):
        return None
    commands: list[Command] = []
    for offset, line in enumerate(body):
        if line.startswith("$ "):
            text = line[2:]
            code = 0
            if m := EXIT.search(text):
                code, text = int(m.group(1)), text[: m.start()]
            commands.append(Command(start + offset + 1, COMMENT.sub("", text), [], code))
        elif commands:
            commands[-1].output.append(line)
    block = Block(path, start, commands)
    if m := MARK.search(before):
        if m.group(1) == "skip":
            block.skip = m.group(2)
        else:
            block.instead = m.group(2)
    return block


def shows_output(block: Block) -> bool:
    return any(any(line.strip() for line in c.output) for c in block.commands)


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` lines fit ``expected`` with its ``...`` wildcards."""
    pattern = ""
    for line in expected:
        if line.strip() == "...":
            pattern += r"(?:.*\n)*?"
        else:
            parts = [re.escape(p) for p in line.rstrip().split("...")]
            pattern += r"[ \t]*".join(["", ".*?".join(parts)]) + r"[ \t]*\n"
    text = "".join(line.rstrip() + "\n" for line in actual)
    return re.fullmatch(pattern, text) is not None


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


class Scratch:
    """A working folder, HOME and data folder for running documented commands."""

    def __init__(self, root: Path) -> None:
        self.work = root / "work"
        self.home = root / "home"
        self.data = root / "data"
        for folder in (self.work, self.home, self.data):
            folder.mkdir(parents=True, exist_ok=True)
        shared = root / "shared"
        if not shared.exists():
            shared.symlink_to(SHARED.parent if SHARED.name == "data" else SHARED)

    def env(self) -> dict[str, str]:
        # Untraced: the README ingests every bundled file, which coverage's tracer makes 4-5x
        # slower (past the timeout on a loaded machine); the tests over tests/data measure the
        # same code.
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("RIRPORT_", "COVERAGE_PROCESS_"))
        }
        return {
            **keep,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(self.home),
            "RIRPORT_DATA_DIR": str(self.data),
            "COLUMNS": "150",
            "NO_COLOR": "1",
        }

    def run(self, text: str) -> tuple[int, list[str]]:
        done = subprocess.run(
            ["bash", "-c", text],
            cwd=self.work,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=600,
            check=False,
        )
        return done.returncode, done.stdout.decode("utf-8", "replace").splitlines()


def run_block(scratch: Scratch, block: Block) -> list[str]:
    """Problems found running one block (empty when it ran as shown)."""
    problems = []
    if block.instead is not None:
        text, code = block.instead, 0
        if m := EXIT.search(text):
            code, text = int(m.group(1)), text[: m.start()]
        runs = [(text, Command(block.line, text, _all_output(block), code))]
    else:
        runs = [(c.text, c) for c in block.commands]
    for text, command in runs:
        code, actual = scratch.run(text)
        where = f"{_name(block.path)}:{command.line}: $ {text}"
        if code != command.exit_code:
            shown = "\n    ".join(actual[-15:])
            problems.append(f"{where}\n  exit {code}, expected {command.exit_code}:\n    {shown}")
            continue
        expected = _trim(command.output)
        if expected and not matches(expected, _trim(actual)):
            problems.append(
                f"{where}\n  expected:\n    "
                + "\n    ".join(expected)
                + "\n  got:\n    "
                + "\n    ".join(actual[:60])
            )
    return problems


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _all_output(block: Block) -> list[str]:
    return [line for c in block.commands for line in c.output]


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_parser_reads_the_conventions(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text(
        "<!-- readme-test: skip needs a server -->\n```\n$ curl x\n```\n\n"
        "```\n$ echo a  # exit 0\na\n$ false # exit 1\n```\n"
        "<!-- readme-test: as echo b -->\n```\n$ echo <placeholder>\nb\n```\n"
    )
    found = blocks(doc)
    assert [b.skip for b in found] == ["needs a server", None, None]
    assert [c.exit_code for c in found[1].commands] == [0, 1]
    assert found[1].commands[0].text == "echo a" and found[1].commands[0].output == ["a"]
    assert found[2].instead == "echo b"
    assert matches(["x ... z", "...", "end"], ["x y z", "1", "2", "end"])
    assert not matches(["x"], ["y"])
    scratch = Scratch(tmp_path / "s")
    assert run_block(scratch, found[1]) == [] and run_block(scratch, found[2]) == []
    wrong = Block(doc, 1, [Command(1, "echo c", ["d"])])
    assert run_block(scratch, wrong)


@pytest.mark.skipif(not (BIN / "rirport").exists(), reason="needs scripts/setup (.venv)")
def test_documents_run_as_written(tmp_path: Path) -> None:
    """Every command block of README.md, then the blocks of docs/*.md that show output."""
    readme = Scratch(tmp_path / "readme")
    problems: list[str] = []
    skipped: list[str] = []
    ran = 0
    for path in documents():
        scratch = readme
        if path.name != "README.md":
            scratch = Scratch(tmp_path / path.stem)
            store = readme.data / "rirport.sqlite"
            if store.exists():
                shutil.copy(store, scratch.data / "rirport.sqlite")
        for block in blocks(path):
            if path.name != "README.md" and not shows_output(block):
                continue
            if block.skip is not None:
                skipped.append(f"{path.name}:{block.line}: {block.skip}")
                continue
            ran += 1
            problems += run_block(scratch, block)
    assert ran >= 8, "the documents' command blocks were found"
    assert not problems, "\n\n".join(problems) + "\n\n(skipped: " + "; ".join(skipped) + ")"
