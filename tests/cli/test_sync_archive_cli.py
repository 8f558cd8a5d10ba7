"""``rirport sync --archive`` end to end: CliRunner, SQLite in tmp_path, the loopback archive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rirport.cli.main import cli
from tests.archive_mirror import ArchiveMirror, lay_out, serve_archive
from tests.excerpts import excerpt, real_file
from tests.services.test_archive import archive_path


@pytest.fixture
def mirror() -> Iterator[ArchiveMirror]:
    """AFRINIC's real 2017 and 2018 files (whole) and LACNIC's (excerpts) in their layouts."""
    files = [("afrinic", p.name, p.read_bytes()) for p in real_file("afrinic").parent.glob("*ext*")]
    for year in ("2017", "2018"):
        path = real_file("lacnic", year)
        files.append(("lacnic", path.name, excerpt(path, 60)))
    with serve_archive(lay_out(files)) as served:
        yield served


def run(tmp_path: Path, *args: str) -> Result:
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    return CliRunner().invoke(
        cli,
        ["--db", db, "--data-dir", str(tmp_path / "data"), "sync", *args],
        catch_exceptions=False,
    )


def test_archive_run_reports_counts_gaps_and_skipped_files(
    tmp_path: Path, mirror: ArchiveMirror
) -> None:
    args = ["--archive", "--from", "2017-01-01", "--to", "2018-12-31", "--base-url"]
    bad = archive_path(mirror, real_file("lacnic", "2017").name)
    mirror.files[bad + ".md5"] = b"0cc175b9c0f1b6a831c399e269772661  x\n"

    first = run(tmp_path, *args, mirror.base_url, "-r", "afrinic", "-r", "lacnic")

    assert first.exit_code == 1, first.output
    text = first.stderr
    assert "3 file(s) ingested, 0 unchanged, 0 already stored, 1 skipped" in text
    assert "afrinic: no file in the archive for 570 day(s): 2017-03-22 .. 2018-10-12" in text
    assert "skipped (run the same command again to retry them):" in text
    assert "lacnic 2017-03-20 (delegated-lacnic-extended-20170320): skipped: checksum" in text

    del mirror.files[bad + ".md5"]
    again = run(tmp_path, *args, mirror.base_url, "-r", "afrinic", "-r", "lacnic", "-r", "ripe")

    assert again.exit_code == 0, again.output
    assert "1 file(s) ingested, 0 unchanged, 3 already stored, 0 skipped" in again.stderr
    assert (
        f"ripencc: no dated files in the span (listed {mirror.base_url}/ripencc/2017/ .. "
        f"{mirror.base_url}/ripencc/2018/)" in again.stderr
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--archive"], "--archive needs --from DATE"),
        (["--from", "2018-01-01"], "--archive needs --from DATE"),
        (["--archive", "--from", "2018-13-01"], "'2018-13-01' is not a date"),
        (["--archive", "--from", "2018-02-01", "--to", "2018-01-01"], "is before --from"),
    ],
)
def test_bad_archive_options_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(tmp_path, *args)
    assert result.exit_code == 2
    assert message in result.stderr
