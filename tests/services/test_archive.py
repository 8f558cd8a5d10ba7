"""``sync_archive`` against a loopback server laying out real files (cut from the shared ones)
and days derived from them by the simulation, in each RIR's archive layout."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from rirport.archive.layouts import LAYOUTS, files_in, listing_names, missing_days, one_per_day
from rirport.config import Settings, urls_under
from rirport.domain.enums import REGISTRIES, Registry
from rirport.services.registry.archive import ArchiveReport, RetryPolicy, sync_archive
from rirport.simulation import ChurnRates, DailyHistory
from rirport.store.unit import Store
from tests.archive_mirror import ArchiveMirror, index_page, lay_out, serve_archive
from tests.excerpts import excerpt, real_file

QUICK = RetryPolicy(attempts=3, wait_first=0.01, wait_max=0.05)
START = dt.date(2014, 1, 1)
END = dt.date(2018, 12, 31)
DAYS = 4  # the real 2018 excerpt and three days derived from it


@functools.cache
def history_files() -> tuple[tuple[str, str, bytes], ...]:
    """Per registry: a real 2014 standard-format excerpt (none for ARIN), a real 2017
    extended excerpt, and four consecutive 2018 days (a real excerpt, three derived)."""
    files: list[tuple[str, str, bytes]] = []
    for registry in (r.value for r in REGISTRIES):
        for year in ("2014", "2017"):
            paths = sorted(real_file(registry).parent.glob(f"delegated-{registry}-*{year}*"))
            files += [(registry, p.name, excerpt(p, 150)) for p in paths]
    base = [
        (real_file(r.value).name, excerpt(real_file(r.value), lambda i, _: i % 300 == 0))
        for r in REGISTRIES
    ]
    rates = ChurnRates(per_record=0.01)
    for day in DailyHistory(base, seed=11, rates=rates).days(DAYS):
        files += [(f.registry, f.name, f.data) for f in day.files]
    return tuple(files)


def day_of(registry: str, index: int) -> tuple[str, bytes]:
    """Name and bytes of day ``index`` (0-3) of the 2018 run of ``registry``."""
    ours = [(n, d) for r, n, d in history_files() if r == registry and "2018" in n[-8:]]
    return ours[index]


def key_of(name: str) -> tuple[str, dt.date]:
    """(registry, date) of a file named as the RIRs name theirs."""
    return name.split("-")[1], dt.datetime.strptime(name[-8:], "%Y%m%d").date()


def archive_path(mirror: ArchiveMirror, name: str) -> str:
    """The mirror's path of a file, whatever compression its registry uses."""
    (path,) = [
        p for p in mirror.files if p.rsplit("/", 1)[-1] in (name, f"{name}.gz", f"{name}.bz2")
    ]
    return path


@pytest.fixture
def mirror() -> Iterator[ArchiveMirror]:
    with serve_archive(lay_out(history_files())) as served:
        yield served


@pytest.fixture
def settings(tmp_path: Path, mirror: ArchiveMirror) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", sync_urls=urls_under(mirror.base_url), http_timeout=5
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    yield opened
    opened.close()


def run(store: Store, settings: Settings, **options: object) -> ArchiveReport:
    return sync_archive(store, settings, start=START, end=END, retry=QUICK, **options)  # type: ignore[arg-type]


def stored(store: Store) -> set[tuple[str, dt.date]]:
    with store.transaction() as uow:
        return {(s.registry, s.snapshot_date) for s in uow.snapshots.all()}


def leftovers(settings: Settings) -> list[str]:
    """Hidden partial downloads left anywhere under the download folder."""
    return sorted(p.name for p in settings.download_dir.rglob(".partial-*"))


# --- layouts --------------------------------------------------------------------------------


def test_each_layout_lists_its_folders() -> None:
    years = range(2017, 2019)
    assert LAYOUTS[Registry.RIPENCC].folders("https://m/ripencc", years) == [
        "https://m/ripencc/2017/",
        "https://m/ripencc/2018/",
    ]
    assert LAYOUTS[Registry.ARIN].folders("https://m/arin/", years) == [
        "https://m/arin/archive/2017/",
        "https://m/arin/archive/2018/",
        "https://m/arin/",
    ]


def test_listing_pairs_files_with_their_checksums() -> None:
    names = [
        "delegated-apnic-20140701.gz",
        "delegated-apnic-20140701.gz.md5",
        "delegated-apnic-extended-20140701.gz",
        "delegated-apnic-extended-20140701.md5",
        "delegated-apnic-extended-20140702.gz",
        "delegated-arin-20140701",
        "delegated-apnic-latest",
    ]
    page = index_page("apnic/2014/", [*names, "old/"]).decode()
    assert listing_names(page) == sorted(names)
    found = files_in(Registry.APNIC, "http://m/apnic/2014/", listing_names(page))
    assert [(f.name, f.md5_of) for f in found] == [
        ("delegated-apnic-20140701.gz", "file"),
        ("delegated-apnic-extended-20140701.gz", "content"),
        ("delegated-apnic-extended-20140702.gz", None),
    ]
    chosen = one_per_day(found)
    assert [f.name for f in chosen.values()] == [
        "delegated-apnic-extended-20140701.gz",
        "delegated-apnic-extended-20140702.gz",
    ]
    assert (
        chosen[dt.date(2014, 7, 1)].url
        == "http://m/apnic/2014/delegated-apnic-extended-20140701.gz"
    )


def test_missing_days_are_counted_between_first_and_last_file() -> None:
    d = dt.date(2018, 1, 1)
    dates = [d + dt.timedelta(days=i) for i in (2, 3, 6)]
    assert missing_days(dates, d, d + dt.timedelta(days=30)) == [
        d + dt.timedelta(days=4),
        d + dt.timedelta(days=5),
    ]


# --- a whole sync ---------------------------------------------------------------------------


def test_every_day_of_every_registry_is_ingested_in_date_order(
    store: Store, settings: Settings, mirror: ArchiveMirror
) -> None:
    report = run(store, settings)

    assert report.ok, [r.message for r in report.skipped] + report.plan.problems
    expected = {key_of(n) for _, n, _ in history_files()}
    assert stored(store) == expected
    dates = [r.file.date for r in report.results]
    assert dates == sorted(dates)
    assert {r.file.kind for r in report.results if r.file.date.year == 2014} == {"standard"}
    assert {r.file.kind for r in report.results if r.file.date.year == 2018} == {"extended"}
    assert all(r.checksum == "verified" for r in report.results)
    assert report.count("ingested") == len(expected)
    assert sum(r.ingest.events or 0 for r in report.results if r.ingest) > 0
    name, data = day_of("afrinic", 2)
    assert (settings.download_dir / "afrinic" / "archive" / name).read_bytes() == data
    assert leftovers(settings) == []
    # days between the 2017 and 2018 files have no file: reported, not failures
    assert len(report.plan.missing[Registry.ARIN]) > 500
    assert dt.date(2018, 10, 12) in report.plan.missing[Registry.ARIN]


def test_bad_files_are_skipped_and_listed_and_the_rest_goes_on(
    store: Store, settings: Settings, mirror: ArchiveMirror
) -> None:
    # a checksum mismatch: the published .md5 says something else
    md5 = archive_path(mirror, day_of("apnic", 1)[0]) + ".md5"
    mirror.files[md5] = b"0cc175b9c0f1b6a831c399e269772661  x\n"
    # the server answers an HTML page for a file
    mirror.faults[archive_path(mirror, day_of("arin", 1)[0])] = "html"
    # another registry's file under this registry's name (with a matching .md5)
    path = archive_path(mirror, day_of("lacnic", 2)[0])
    other = day_of("afrinic", 2)[1]
    mirror.files[path], mirror.files[path + ".md5"] = other, _gnu_md5(other)
    # the date goes backwards: day 3's name, day 1's content (and its md5)
    path = archive_path(mirror, day_of("afrinic", 3)[0])
    stale = day_of("afrinic", 1)[1]
    mirror.files[path], mirror.files[path + ".md5"] = stale, _gnu_md5(stale)
    # a corrupt compressed file with no checksum published
    path = archive_path(mirror, day_of("ripencc", 2)[0])
    mirror.files[path] = mirror.files[path][:40] + b"\0" * 64 + mirror.files[path][104:]
    del mirror.files[path.removesuffix(".bz2") + ".md5"]
    # a missing day
    del mirror.files[archive_path(mirror, day_of("ripencc", 1)[0])]
    # a connection dropped once (retried, then stored) and one that always drops
    mirror.faults[archive_path(mirror, day_of("arin", 2)[0])] = "drop-once"
    mirror.faults[archive_path(mirror, day_of("apnic", 3)[0])] = "drop"

    report = run(store, settings, jobs=3)

    skipped = {(r.file.registry.value, r.file.date): r.error or "" for r in report.skipped}
    expect = {
        day_of("apnic", 1)[0]: "checksum mismatch",
        day_of("arin", 1)[0]: "HTML/XML page",
        day_of("lacnic", 2)[0]: "this is a afrinic file in lacnic's archive",
        day_of("afrinic", 3)[0]: "the date goes backwards",
        day_of("ripencc", 2)[0]: "corrupt bzip2 data",
        day_of("apnic", 3)[0]: "gave up after 3 tries",
    }
    wanted = {key_of(name): why for name, why in expect.items()}
    assert set(skipped) == set(wanted)
    for key, why in wanted.items():
        assert why in skipped[key], skipped[key]
    assert not report.ok
    have = stored(store)
    assert not set(skipped) & have
    assert key_of(day_of("arin", 2)[0]) in have  # dropped once, then fetched whole
    assert key_of(day_of("ripencc", 3)[0]) in have  # the day after a missing and a bad one
    assert key_of(day_of("ripencc", 1)[0])[1] in report.plan.missing[Registry.RIPENCC]
    assert leftovers(settings) == []
    kept = {p.name.split(".")[0] for p in settings.download_dir.rglob("delegated-*")}
    assert not set(expect) & kept


def test_a_second_run_fetches_only_what_was_skipped(
    store: Store, settings: Settings, mirror: ArchiveMirror
) -> None:
    name = day_of("lacnic", 3)[0]
    mirror.faults[archive_path(mirror, name)] = "drop"
    first = run(store, settings)
    assert [r.file.name for r in first.skipped] == [name]
    asked = len([p for p in mirror.requests if not p.endswith(("/", ".md5"))])

    del mirror.faults[archive_path(mirror, name)]
    mirror.requests.clear()
    again = run(store, settings)

    assert again.ok
    fetched = [p for p in mirror.requests if not p.endswith(("/", ".md5"))]
    assert fetched == [archive_path(mirror, name)]
    assert asked > 10
    assert again.count("ingested") == 1
    assert again.count("stored-before") == len(history_files()) - 1


def test_downloads_run_a_bounded_number_at_once(
    store: Store, settings: Settings, mirror: ArchiveMirror
) -> None:
    mirror.delay = 0.05
    report = run(store, settings, jobs=2, registries=[Registry.AFRINIC, Registry.APNIC])
    assert report.ok
    assert mirror.most_busy == 2


def test_a_server_error_is_retried(store: Store, settings: Settings, mirror: ArchiveMirror) -> None:
    path = archive_path(mirror, day_of("afrinic", 1)[0])
    mirror.faults[path] = "503-once"
    report = run(store, settings, registries=[Registry.AFRINIC])
    assert report.ok
    assert mirror.fetched(path) == 2


def _gnu_md5(data: bytes) -> bytes:
    return f"{hashlib.md5(data, usedforsecurity=False).hexdigest()}  x\n".encode()
