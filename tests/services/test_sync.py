"""rirport.services.registry.sync against a real HTTP server on loopback serving the shared 2018
files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rirport.config import Settings
from rirport.domain.enums import Registry
from rirport.errors import DownloadError
from rirport.services.registry.sync import SyncResult, parse_md5, sync, urls_under
from rirport.store.unit import Store
from tests.mirror import Mirror, real_file, refused_url, serve_mirror

AFRINIC, LACNIC = Registry.AFRINIC, Registry.LACNIC
DIGEST = "0cc175b9c0f1b6a831c399e269772661"


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    with serve_mirror() as served:
        yield served


@pytest.fixture
def settings(tmp_path: Path, mirror: Mirror) -> Settings:
    """Settings whose five sync URLs point at the mirror (the store is passed separately)."""
    return Settings(
        data_dir=tmp_path / "data", sync_urls=urls_under(mirror.base_url), http_timeout=5.0
    )


def md5_of(rir: str) -> str:
    return hashlib.md5(real_file(rir)[1], usedforsecurity=False).hexdigest()


def stored_registries(store: Store) -> list[str]:
    with store.transaction() as uow:
        return sorted(row.registry for row in uow.snapshots.all())


def files_in(folder: Path) -> list[str]:
    """Every file left in a download folder, hidden partial files included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def by_registry(results: list[SyncResult]) -> dict[Registry, SyncResult]:
    return {r.registry: r for r in results}


# --- .md5 layouts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        f"MD5 (delegated-arin-extended-20181013) = {DIGEST}\n",
        f"MD5(delegated-ripencc-extended-20181013)= {DIGEST}",
        f"{DIGEST}  delegated-lacnic-extended-20181012\n",
        f"{DIGEST} *delegated-afrinic-extended-20181013\r\n",
        f"{DIGEST}\n",
        f"\n  {DIGEST.upper()}  delegated-apnic-extended-20181014\n",
    ],
)
def test_parse_md5_reads_bsd_gnu_and_bare_layouts(body: str) -> None:
    assert parse_md5(body.encode(), "http://m/x.md5") == DIGEST


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"  \n",
        b"<html><body>Not here</body></html>",
        DIGEST[:31].encode(),
        f"SHA256 (x) = {DIGEST}".encode(),
        f"{DIGEST}0  name".encode(),
    ],
)
def test_parse_md5_refuses_other_bodies_naming_the_url(body: bytes) -> None:
    with pytest.raises(DownloadError, match=r"http://m/x\.md5"):
        parse_md5(body, "http://m/x.md5")


# --- all five ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_sync_ingests_all_five_then_reports_them_unchanged(
    store: Store, settings: Settings, mirror: Mirror
) -> None:
    seen: dict[Registry, list[tuple[int, int | None]]] = {}
    results = sync(
        store,
        settings,
        progress=lambda reg, got, total: seen.setdefault(reg, []).append((got, total)),
    )

    assert [(r.registry, r.outcome, r.error) for r in results] == [
        (reg, "ingested", None) for reg in Registry
    ]
    for result in results:
        name, data = real_file(result.registry.value)
        assert result.size == len(data)
        assert result.md5 == md5_of(result.registry.value)
        assert result.url == mirror.url(result.registry.value)
        assert result.path == settings.download_dir / result.registry.value / name
        assert result.path.read_bytes() == data  # kept under its dated name, as the RIR names it
        assert files_in(result.path.parent) == [name]  # no partial file left
        assert seen[result.registry][-1] == (len(data), len(data))
    with store.transaction() as uow:
        rows = uow.snapshots.all()
    assert sorted(row.source_url or "" for row in rows) == sorted(r.url for r in results)

    again = sync(store, settings)

    assert [r.outcome for r in again] == ["unchanged"] * 5
    assert [r.ingest.snapshot_id for r in again if r.ingest] == [
        r.ingest.snapshot_id for r in results if r.ingest
    ]
    assert stored_registries(store) == sorted(r.value for r in Registry)


# --- one registry failing, the other going on -------------------------------------------------


def test_bad_checksum_stores_nothing_for_that_registry(
    store: Store, settings: Settings, mirror: Mirror
) -> None:
    mirror.faults["lacnic"] = "bad-md5"

    results = by_registry(sync(store, settings, [LACNIC, AFRINIC]))

    failed = results[LACNIC]
    assert failed.outcome == "failed" and failed.ingest is None
    assert "checksum mismatch for lacnic" in (failed.error or "")
    expected = hashlib.md5(b"something else", usedforsecurity=False).hexdigest()
    assert expected in (failed.error or "") and md5_of("lacnic") in (failed.error or "")
    assert failed.md5 == md5_of("lacnic")
    assert results[AFRINIC].outcome == "ingested"
    assert stored_registries(store) == ["afrinic"]
    assert files_in(settings.download_dir / "lacnic") == []


def test_missing_file_fails_naming_url_and_status(
    store: Store, settings: Settings, mirror: Mirror
) -> None:
    mirror.faults["lacnic"] = "missing"

    results = by_registry(sync(store, settings, [LACNIC, AFRINIC]))

    assert results[LACNIC].outcome == "failed"
    assert results[LACNIC].error == f"{mirror.url('lacnic')}: HTTP 404 Not Found"
    assert results[AFRINIC].outcome == "ingested"
    assert stored_registries(store) == ["afrinic"]


def test_md5_that_is_an_html_page_fails_naming_the_md5_url(
    store: Store, settings: Settings, mirror: Mirror
) -> None:
    mirror.faults["lacnic"] = "md5-html"

    (result,) = sync(store, settings, [LACNIC])

    assert result.outcome == "failed"
    assert (result.error or "").startswith(f"{mirror.url('lacnic')}.md5: not an md5 checksum")
    assert "/lacnic/delegated-lacnic-extended-latest" not in mirror.requests  # not fetched
    assert stored_registries(store) == []


def test_truncated_body_is_refused_and_not_kept(
    store: Store, settings: Settings, mirror: Mirror
) -> None:
    mirror.faults["lacnic"] = "truncated"
    size = len(real_file("lacnic")[1])

    results = by_registry(sync(store, settings, [LACNIC, AFRINIC]))

    assert results[LACNIC].outcome == "failed"
    assert f"{mirror.url('lacnic')}: truncated: got {size // 2} of {size} bytes" in (
        results[LACNIC].error or ""
    )
    assert files_in(settings.download_dir / "lacnic") == []
    assert results[AFRINIC].outcome == "ingested"
    assert stored_registries(store) == ["afrinic"]


def test_html_page_served_as_the_file_is_refused_by_ingest(
    store: Store, settings: Settings, mirror: Mirror
) -> None:
    mirror.faults["lacnic"] = "html"

    results = by_registry(sync(store, settings, [LACNIC, AFRINIC]))

    failed = results[LACNIC]
    assert failed.outcome == "failed"  # its md5 matched: the checksum cannot catch this
    assert failed.error == (
        f"{mirror.url('lacnic')}: this is an HTML/XML page (an error page "
        "from the server?), not a statistics file"
    )
    assert files_in(settings.download_dir / "lacnic") == []
    assert stored_registries(store) == ["afrinic"]


def test_another_registrys_file_is_refused(
    store: Store, settings: Settings, mirror: Mirror
) -> None:
    mirror.faults["afrinic"] = "other-registry"

    (result,) = sync(store, settings, [AFRINIC])

    assert result.outcome == "failed"
    assert result.error == (
        f"{mirror.url('afrinic')}: this is a lacnic file, not afrinic; nothing was stored"
    )
    assert stored_registries(store) == []


def test_connection_refused_fails_that_registry_only(
    store: Store, settings: Settings, mirror: Mirror
) -> None:
    dead = refused_url()
    urls = dict(settings.sync_urls) | {LACNIC: dead}
    local = settings.with_overrides(sync_urls=urls)

    results = by_registry(sync(store, local, [LACNIC, AFRINIC]))

    assert results[LACNIC].outcome == "failed"
    assert (results[LACNIC].error or "").startswith(f"{dead}.md5: cannot connect: ")
    assert results[AFRINIC].outcome == "ingested"


def test_stalled_body_times_out(store: Store, settings: Settings, mirror: Mirror) -> None:
    mirror.faults["afrinic"] = "stall"

    (result,) = sync(store, settings.with_overrides(http_timeout=0.3), [AFRINIC])

    assert result.outcome == "failed"
    size = len(real_file("afrinic")[1])
    assert result.error == f"{mirror.url('afrinic')}: timed out after 0.3s (got 0 of {size} bytes)"
    assert files_in(settings.download_dir / "afrinic") == []


def test_caller_client_is_used_and_left_open(
    store: Store, settings: Settings, mirror: Mirror
) -> None:
    with httpx.Client() as client:
        (result,) = sync(store, settings, [AFRINIC], client=client)
        assert not client.is_closed
    assert result.outcome == "ingested"
    assert result.ingest is not None and result.ingest.records > 0


def test_registry_without_url_fails_without_a_request(store: Store, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sync_urls={})

    (result,) = sync(store, settings, [AFRINIC])

    assert (result.outcome, result.error) == ("failed", "no sync URL configured")
