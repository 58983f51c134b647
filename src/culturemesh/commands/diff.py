"""``culturemesh diff OLD NEW``: which descriptor changes break readers or providers; exit 10 if any.

OLD and NEW are descriptor files, product folders, or ``git:REV:PATH`` — PATH (relative to the
repository root, as ``git show`` reads it) at revision REV of the project's repository::

    culturemesh diff git:origin/main:functions/ticket-sales/data-product.yaml functions/ticket-sales
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path, PurePosixPath

import click

from culturemesh.commands._common import echo_json, settings_of
from culturemesh.descriptor import DESCRIPTOR_FILENAME, Descriptor, load_descriptor, load_descriptor_text
from culturemesh.errors import ConfigError, DescriptorError, Issue

GIT_PREFIX = "git:"


@click.command()
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.pass_context
def diff(ctx: click.Context, old: str, new: str, as_json: bool) -> None:
    """Classify the changes from descriptor OLD to NEW; exit 10 when one is breaking.

    OLD and NEW are descriptor files, product folders or git:REV:PATH (PATH at git revision REV,
    relative to the repository root), e.g.
    `culturemesh diff git:origin/main:functions/x/data-product.yaml functions/x`.
    """
    from culturemesh.compatibility import BreakingChange, compare, summarize  # only this verb needs it

    with tempfile.TemporaryDirectory(prefix="culturemesh-diff-") as scratch:
        before = load_source(ctx, old, Path(scratch) / "old")
        after = load_source(ctx, new, Path(scratch) / "new")
        changes = compare(before, after)  # a JSON Schema contract read from git lives in scratch
    if as_json:
        breaking = sum(change.breaking for change in changes)
        echo_json({"old": old, "new": new, "breaking": breaking, "changes": [c.as_dict() for c in changes]})
    else:
        for change in changes:
            click.echo(str(change))
        click.echo(f"{summarize(changes)}: {old} -> {new}")
    if any(change.breaking for change in changes):
        raise BreakingChange(changes)


def load_source(ctx: click.Context, source: str, scratch: Path) -> Descriptor:
    """A descriptor from a file, a product folder, or ``git:REV:PATH`` (files it refers to go to ``scratch``)."""
    if not source.startswith(GIT_PREFIX):
        return load_descriptor(Path(source))
    rev, colon, path = source.removeprefix(GIT_PREFIX).partition(":")
    if not (rev and colon and path):
        raise ConfigError(f"{source!r}: expected git:REV:PATH, e.g. git:origin/main:functions/x/data-product.yaml")
    if not path.endswith((".yaml", ".yml")):
        path = f"{path.rstrip('/')}/{DESCRIPTOR_FILENAME}"
    project = settings_of(ctx).project
    text = _decode(git_show(project, rev, path), source)
    # Load once without a folder (structure only) to learn which files it refers to, fetch those
    # from the same revision, then load again so the references are checked as for a folder.
    referenced = _referenced_files(load_descriptor_text(text, source=source))
    folder = PurePosixPath(path).parent
    scratch.mkdir(parents=True, exist_ok=True)
    for relative in referenced:
        try:
            content = git_show(project, rev, str(folder / relative))
        except ConfigError:
            continue  # reported below as a missing file of the descriptor
        target = scratch / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return load_descriptor_text(text, source=source, base_dir=scratch)


def git_show(project: Path, rev: str, path: str) -> bytes:
    """The bytes of ``path`` at revision ``rev``, read by ``git show`` in the project folder."""
    try:
        result = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=project, capture_output=True, check=False)
    except FileNotFoundError:
        raise ConfigError("git is not installed or not on PATH; it is needed to read git:REV:PATH") from None
    if result.returncode != 0:
        problem = result.stderr.decode("utf-8", "replace").strip()
        raise ConfigError(
            f"cannot read {path!r} at git revision {rev!r} in {project}: {problem}; check that the revision "
            "exists (in CI fetch it first, e.g. `git fetch origin main`) and that the path is relative to "
            "the repository root"
        )
    return result.stdout


def _decode(content: bytes, source: str) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DescriptorError([Issue(source, "", f"cannot read the descriptor as UTF-8 text: {exc}")]) from None


def _referenced_files(descriptor: Descriptor) -> list[str]:
    files = [function.source for function in descriptor.functions.values()]
    for upload in descriptor.extension.inputs.values():
        if upload.contract is not None and upload.contract.json_schema_path is not None:
            files.append(upload.contract.json_schema_path.as_posix())
    return files


def register(group: click.Group) -> None:
    group.add_command(diff)
