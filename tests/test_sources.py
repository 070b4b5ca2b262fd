"""Tests for IMDb.data.sources (and IMDb.data.aclimdb_archive, IMDb.data.review_frame): every source gives the same frame,
and bad input gives a DataError naming the file.

All fixtures are synthetic (invented review texts) and the download tests use a local HTTP server on
127.0.0.1, so nothing here touches the network. The last tests run on the real dataset when IMDB_DATA is set.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import shutil
import tarfile
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from IMDb.config import environment
from IMDb.data import aclimdb_archive, review_frame, sources
from IMDb.data.aclimdb_archive import download_archive, extract_archive
from IMDb.data.sources import load_labeled, load_unlabeled, resolve_source
from IMDb.errors import DataError

REAL_DATA = os.environ.get("IMDB_DATA")  # read before the autouse fixture clears it for the synthetic tests

PHRASES = [
    "The pacing drags and the jokes land flat.",
    "A clumsy sequel that forgets its own plot.<br /><br />Skip it.",
    "Two hours I will never get back; the ending is a shrug.",
    "Warm, funny and sharply acted.<br />The caf\u00e9 scene is a delight.",
    "A quiet gem with a soundtrack I keep humming.",
    "Bold camera work and a lead performance that earns every tear.",
]
IDS = (0, 2, 10)  # 10 checks that ids sort as numbers, not as strings
UNSUP_IDS = (0, 1, 10)
NO_MOVIE = ("test", "pos", 2)  # its urls line has no tt id, so its movie is ""

LABELED_SCHEMA = pa.schema([("split", pa.string()), ("label", pa.int8()), ("rating", pa.int8()),
                            ("id", pa.int32()), ("movie", pa.string()), ("text", pa.string())])
UNLABELED_SCHEMA = pa.schema([("split", pa.string()), ("id", pa.int32()), ("movie", pa.string()),
                              ("text", pa.string())])


def _movie(split: str, sub: str, i: int) -> str:
    if (split, sub, i) == NO_MOVIE:
        return ""
    group = {"train/neg": 1, "train/pos": 2, "test/neg": 3, "test/pos": 4, "train/unsup": 5}[f"{split}/{sub}"]
    return f"tt{group * 1_000_000 + i:07d}"


def expected_labeled() -> pd.DataFrame:
    rows = []
    for split in ("train", "test"):
        for label, sub, ratings in ((0, "neg", (1, 3, 4)), (1, "pos", (7, 9, 10))):
            for k, (i, rating) in enumerate(zip(IDS, ratings)):
                text = f"{PHRASES[3 * label + k]} ({split}/{sub}/{i})"
                rows.append((split, label, rating, i, _movie(split, sub, i), text))
    df = pd.DataFrame(rows, columns=["split", "label", "rating", "id", "movie", "text"])
    return df.astype({"split": "str", "label": "int8", "rating": "int8", "id": "int32", "movie": "str", "text": "str"})


def expected_unlabeled() -> pd.DataFrame:
    rows = [("unsup", i, _movie("train", "unsup", i), f"{PHRASES[k]} (unsup/{i})") for k, i in enumerate(UNSUP_IDS)]
    df = pd.DataFrame(rows, columns=["split", "id", "movie", "text"])
    return df.astype({"split": "str", "id": "int32", "movie": "str", "text": "str"})


def write_acl(root: Path) -> Path:
    """Write a tiny aclImdb folder under ``root`` with the official layout; return the aclImdb path."""
    acl = root / "aclImdb"
    lab, unsup = expected_labeled(), expected_unlabeled()
    for split, sub, label in [("train", "neg", 0), ("train", "pos", 1), ("test", "neg", 0), ("test", "pos", 1),
                              ("train", "unsup", None)]:
        folder = acl / split / sub
        folder.mkdir(parents=True)
        if label is None:
            group = unsup.assign(rating=0)
        else:
            group = lab[(lab.split == split) & (lab.label == label)]
        for row in group.sample(frac=1, random_state=1).itertuples():  # write in shuffled order
            (folder / f"{row.id}_{row.rating}.txt").write_bytes(row.text.encode("utf-8"))
        lines = []
        for i in range(max(group.id) + 1):
            movie = _movie(split, sub, i) or "unknown"
            lines.append(f"http://www.imdb.com/title/{movie}/usercomments")
        (acl / split / f"urls_{sub}.txt").write_text("\n".join(lines) + "\n")
    return acl


def write_parquet(path: Path, df: pd.DataFrame, schema: pa.Schema | None = None) -> Path:
    pq.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=False), path)
    return path


def make_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def digests(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    return hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest()


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """Each test gets its own empty cache and no IMDB_DATA, so results never depend on the machine."""
    monkeypatch.setenv("IMDB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("IMDB_DATA", raising=False)
    monkeypatch.delenv("IMDB_UNSUP_DATA", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def acl(tmp_path) -> Path:
    return write_acl(tmp_path / "data")


@pytest.fixture
def parquet(tmp_path) -> Path:
    """imdb.parquet (rows reversed, to check sorting) with imdb_unsup.parquet beside it."""
    folder = tmp_path / "pq"
    folder.mkdir()
    write_parquet(folder / "imdb_unsup.parquet", expected_unlabeled()[::-1], UNLABELED_SCHEMA)
    return write_parquet(folder / "imdb.parquet", expected_labeled()[::-1], LABELED_SCHEMA)


@pytest.fixture
def archive(tmp_path, acl) -> Path:
    path = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(acl, arcname="aclImdb")
    return path


# --------------------------------------------------------------------------- every source, same frame


def test_labeled_sources_agree(acl, parquet, archive):
    expected = expected_labeled()
    for source in (acl, acl.parent, str(acl), parquet, archive):
        pd.testing.assert_frame_equal(load_labeled(source, progress=False), expected)


def test_unlabeled_sources_agree(acl, parquet, archive, monkeypatch):
    expected = expected_unlabeled()
    for source in (acl, acl.parent, parquet, parquet.parent / "imdb_unsup.parquet", archive):
        pd.testing.assert_frame_equal(load_unlabeled(source, progress=False), expected)
    moved = parquet.parent / "elsewhere.parquet"
    (parquet.parent / "imdb_unsup.parquet").rename(moved)
    monkeypatch.setenv("IMDB_UNSUP_DATA", str(moved))
    pd.testing.assert_frame_equal(load_unlabeled(parquet, progress=False), expected)


def test_dtypes_and_sort_order(parquet, acl):
    for df in (load_labeled(parquet, progress=False), load_labeled(acl, progress=False)):
        assert list(df.columns) == ["split", "label", "rating", "id", "movie", "text"]
        assert {c: str(t) for c, t in df.dtypes.items()} == {
            "split": "str", "label": "int8", "rating": "int8", "id": "int32", "movie": "str", "text": "str"}
        assert list(df.index) == list(range(len(df)))
        assert list(df.split) == ["train"] * 6 + ["test"] * 6
        assert list(df.label) == [0, 0, 0, 1, 1, 1] * 2
        assert list(df.id) == list(IDS) * 4
        assert "<br />" in df.text.iloc[1]  # HTML residue is kept
        assert df.set_index(["split", "id", "label"]).loc[("test", 2, 1), "movie"] == ""
    unsup = load_unlabeled(acl, progress=False)
    assert {c: str(t) for c, t in unsup.dtypes.items()} == {"split": "str", "id": "int32", "movie": "str", "text": "str"}
    assert list(unsup.id) == list(UNSUP_IDS)


def test_parquet_extra_columns_are_dropped(tmp_path):
    path = write_parquet(tmp_path / "extra.parquet", expected_labeled().assign(notes="x"))
    pd.testing.assert_frame_equal(load_labeled(path, progress=False), expected_labeled())


def test_imdb_data_env(parquet, monkeypatch):
    monkeypatch.setenv("IMDB_DATA", str(parquet))
    assert resolve_source() == parquet
    pd.testing.assert_frame_equal(load_labeled(progress=False), expected_labeled())
    assert resolve_source(parquet.parent) == parquet.parent  # the argument wins over the environment


def test_folder_parse_is_cached(acl, monkeypatch, isolated_env):
    first = load_labeled(acl, progress=False)
    assert list((isolated_env / "parsed").glob("*.parquet"))
    calls = []
    real_parse = sources._parse_folder
    monkeypatch.setattr(sources, "_parse_folder", lambda *a: calls.append(a) or real_parse(*a))
    pd.testing.assert_frame_equal(load_labeled(acl, progress=False), first)
    assert calls == []  # served from the cache
    (acl / "train" / "pos" / "11_8.txt").write_text("An added review about a talking horse.")
    os.utime(acl / "train" / "pos", ns=(1, 1))  # make sure the folder's mtime differs
    assert len(load_labeled(acl, progress=False)) == len(first) + 1
    assert len(calls) == 1


def test_archive_is_extracted_once(archive, monkeypatch, isolated_env):
    load_labeled(archive, progress=False)
    assert len(list((isolated_env / "extracted").glob("*/aclImdb"))) == 1

    def no_open(*args, **kwargs):
        raise AssertionError("archive opened again")

    monkeypatch.setattr(aclimdb_archive.tarfile, "open", no_open)
    pd.testing.assert_frame_equal(load_unlabeled(archive, progress=False), expected_unlabeled())


def test_cache_dir(monkeypatch, tmp_path):
    assert environment.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("IMDB_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert environment.cache_dir() == tmp_path / "home" / ".cache" / "imdb-leap"


# --------------------------------------------------------------------------- bad input


def test_resolve_source_without_anything_lists_options():
    for call in (resolve_source, lambda: load_labeled(progress=False), lambda: load_unlabeled(progress=False)):
        with pytest.raises(DataError) as err:
            call()
        message = str(err.value)
        for option in ("IMDB_DATA", "parquet", "aclImdb/", "aclImdb_v1.tar.gz", "download"):
            assert option in message


def test_resolve_source_uses_previous_download(isolated_env):
    isolated_env.mkdir()
    (isolated_env / "aclImdb_v1.tar.gz").write_bytes(b"downloaded earlier")
    assert resolve_source() == isolated_env / "aclImdb_v1.tar.gz"


def test_resolve_source_download_keyword(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(sources, "download_archive", lambda *a, **k: calls.append(a) or tmp_path / "x.tar.gz")
    assert resolve_source("download") == tmp_path / "x.tar.gz"
    monkeypatch.setenv("IMDB_DATA", "download")
    assert resolve_source() == tmp_path / "x.tar.gz"
    assert len(calls) == 2 and calls[0][0] == aclimdb_archive.ARCHIVE_URL


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match="nowhere.parquet.*does not exist"):
        load_labeled(tmp_path / "nowhere.parquet")


def test_missing_columns(tmp_path):
    path = write_parquet(tmp_path / "thin.parquet", expected_labeled().drop(columns=["rating", "movie"]))
    with pytest.raises(DataError) as err:
        load_labeled(path)
    message = str(err.value)
    assert "thin.parquet" in message and "rating, movie" in message and "Expected schema" in message


def test_bad_label(tmp_path):
    df = expected_labeled()
    df.loc[3, "label"] = 2
    path = write_parquet(tmp_path / "labels.parquet", df)
    with pytest.raises(DataError, match=r"labels\.parquet: row 3 \(id=0\): label .* got 2"):
        load_labeled(path)


def test_bad_rating(tmp_path):
    path = write_parquet(tmp_path / "ratings.parquet", expected_labeled().assign(rating=0))
    with pytest.raises(DataError, match=r"ratings\.parquet: row 0 .*rating"):
        load_labeled(path)


def test_empty_text_in_parquet(tmp_path):
    df = expected_labeled()
    df.loc[1, "text"] = " \n\t "
    path = write_parquet(tmp_path / "blank.parquet", df)
    with pytest.raises(DataError, match=r"blank\.parquet: row 1 .*text"):
        load_labeled(path)
    df.loc[1, "text"] = None
    with pytest.raises(DataError, match=r"row 1"):
        load_labeled(write_parquet(tmp_path / "null.parquet", df))


def test_empty_text_in_folder(acl):
    (acl / "test" / "neg" / "2_3.txt").write_text("   \n")
    with pytest.raises(DataError, match=r"2_3\.txt: empty review"):
        load_labeled(acl, progress=False)


def test_non_utf8_text(acl):
    (acl / "train" / "unsup" / "1_0.txt").write_bytes(b"Great fun \xff\xfe all the way")
    with pytest.raises(DataError, match=r"1_0\.txt: not valid UTF-8 at byte offset 10"):
        load_unlabeled(acl, progress=False)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_parquet(parquet, damage):
    data = parquet.read_bytes()
    parquet.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"not a parquet file at all",
                         "empty": b""}[damage])
    with pytest.raises(DataError, match=r"imdb\.parquet: cannot read parquet") as err:
        load_labeled(parquet)
    assert isinstance(err.value.__cause__, (pa.ArrowException, OSError))


def test_folder_without_layout(tmp_path, acl):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: not an aclImdb folder"):
        load_labeled(tmp_path / "empty")
    shutil.rmtree(acl / "test" / "neg")
    with pytest.raises(DataError, match=r"aclImdb: not a complete aclImdb folder, missing test/neg"):
        load_labeled(acl)


def test_unexpected_file_name(acl):
    (acl / "train" / "pos" / "notes.txt").write_text("my notes")
    with pytest.raises(DataError, match=r"notes\.txt: unexpected file name"):
        load_labeled(acl, progress=False)


def test_folder_named_like_a_review(acl):
    (acl / "train" / "pos" / "12_8.txt").mkdir()
    with pytest.raises(DataError, match=r"12_8\.txt: a folder .* expected only <id>_<rating>\.txt files"):
        load_labeled(acl, progress=False)


def test_repeated_ids_are_refused(tmp_path, acl):
    df = expected_labeled()
    path = write_parquet(tmp_path / "twice.parquet", pd.concat([df, df.iloc[[4]]]))
    with pytest.raises(DataError, match=r"twice\.parquet: review ids repeated .*: train/pos/2\."):
        load_labeled(path)
    (acl / "test" / "neg" / "2_1.txt").write_text("Same id, another rating.")  # 2_3.txt exists
    with pytest.raises(DataError, match=r"aclImdb: review ids repeated .*: test/neg/2\."):
        load_labeled(acl, progress=False)


def test_text_must_be_strings(tmp_path):
    path = write_parquet(tmp_path / "numbers.parquet", expected_labeled().assign(text=range(12)))
    with pytest.raises(DataError, match=r"numbers\.parquet: column text holds int64, expected strings"):
        load_labeled(path)


def test_invalid_utf8_in_parquet_names_the_row(tmp_path):
    table = pa.Table.from_pandas(expected_labeled(), schema=LABELED_SCHEMA, preserve_index=False)
    texts = [t.encode() for t in table.column("text").to_pylist()]
    texts[5] = b"Great fun \xff\xfe all the way"
    table = table.set_column(5, "text", pa.array(texts, pa.binary()).view(pa.string()))
    pq.write_table(table, tmp_path / "bytes.parquet")
    with pytest.raises(DataError, match=r"bytes\.parquet: row 5 \(id=10\): text is not valid UTF-8 at byte 10"):
        load_labeled(tmp_path / "bytes.parquet")


def test_an_edited_review_is_read_again(acl):
    first = load_labeled(acl, progress=False)
    review = next((acl / "train" / "pos").glob("0_*.txt"))
    folder_times = (acl / "train" / "pos").stat()
    review.write_text("Edited in place: a different review.")
    os.utime(acl / "train" / "pos", ns=(folder_times.st_atime_ns, folder_times.st_mtime_ns))
    again = load_labeled(acl, progress=False)
    assert "Edited in place: a different review." in set(again.text) - set(first.text)


def test_unwritable_cache_with_an_archive(archive, monkeypatch, tmp_path):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("IMDB_CACHE", str(tmp_path / "a-file"))
    with pytest.raises(DataError, match=r"cannot extract .*aclImdb_v1\.tar\.gz into .*Set IMDB_CACHE"):
        load_labeled(archive, progress=False)


def test_missing_imdb_data_names_the_variable(tmp_path, monkeypatch):
    from IMDb.config.run import Config

    monkeypatch.setenv("IMDB_DATA", str(tmp_path / "gone.parquet"))
    with pytest.raises(DataError, match=r"gone\.parquet \(from IMDB_DATA\) does not exist"):
        load_labeled(Config().data)
    with pytest.raises(DataError, match=r"other\.parquet \(from --data\) does not exist"):
        load_labeled(tmp_path / "other.parquet")


def test_unknown_file_kind(tmp_path):
    (tmp_path / "reviews.csv").write_text("split,label\n")
    with pytest.raises(DataError, match=r"reviews\.csv: not a parquet file"):
        load_labeled(tmp_path / "reviews.csv")


def test_missing_unsup_sibling(parquet):
    (parquet.parent / "imdb_unsup.parquet").unlink()
    with pytest.raises(DataError, match=r"imdb_unsup\.parquet does not exist"):
        load_unlabeled(parquet)


def test_corrupt_archive(archive):
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"aclImdb_v1\.tar\.gz: corrupt or truncated archive"):
        load_labeled(archive, progress=False)
    archive.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    with pytest.raises(DataError, match=r"aclImdb_v1\.tar\.gz: corrupt or truncated archive"):
        load_labeled(archive, progress=False)


def test_archive_without_aclimdb(tmp_path):
    path = make_tar(tmp_path / "other.tar.gz", [(tarfile.TarInfo("readme.txt"), b"hello")])
    with pytest.raises(DataError, match=r"other\.tar\.gz: no aclImdb/ folder"):
        extract_archive(path, tmp_path / "dest", progress=False)
    assert list((tmp_path / "dest").iterdir()) == []


# --------------------------------------------------------------------------- unsafe archives


def _evil_member(kind: str, outside: Path) -> tarfile.TarInfo:
    info = tarfile.TarInfo({"dotdot": "../evil.txt", "nested_dotdot": "aclImdb/../../evil.txt",
                            "absolute": str(outside / "evil.txt")}.get(kind, "aclImdb/evil.txt"))
    if kind == "symlink_abs":
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    elif kind == "symlink_rel":
        info.type, info.linkname = tarfile.SYMTYPE, "../../../evil.txt"
    elif kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, "../evil.txt"
    elif kind == "device":
        info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    elif kind == "fifo":
        info.type = tarfile.FIFOTYPE
    return info


@pytest.mark.parametrize("kind", ["dotdot", "nested_dotdot", "absolute", "symlink_abs", "symlink_rel",
                                  "hardlink", "device", "fifo"])
def test_unsafe_archive_is_rejected(tmp_path, kind):
    outside = tmp_path / "outside"
    outside.mkdir()
    good = tarfile.TarInfo("aclImdb/train/pos/0_9.txt")
    evil = _evil_member(kind, outside)
    is_file = evil.type == tarfile.REGTYPE
    path = make_tar(tmp_path / "evil.tar.gz", [(good, b"A fine film."), (evil, b"pwned" if is_file else None)])
    dest = tmp_path / "work" / "dest"
    with pytest.raises(DataError) as err:
        extract_archive(path, dest, progress=False)
    message = str(err.value)
    assert "evil.tar.gz" in message and repr(evil.name) in message and "unsafe" in message
    assert not list(tmp_path.rglob("evil.txt")), "a file was written for the bad member"
    assert list(dest.iterdir()) == []  # no half-extracted aclImdb, no temp folder left behind
    assert not list(outside.iterdir())


def test_symlink_inside_the_tree_is_allowed(tmp_path):
    link = tarfile.TarInfo("aclImdb/train/latest.txt")
    link.type, link.linkname = tarfile.SYMTYPE, "pos/0_9.txt"
    path = make_tar(tmp_path / "ok.tar.gz", [(tarfile.TarInfo("aclImdb/train/pos/0_9.txt"), b"Nice."),
                                             (link, None)])
    root = extract_archive(path, tmp_path / "dest", progress=False)
    assert root == tmp_path / "dest" / "aclImdb"
    assert (root / "train" / "latest.txt").read_text() == "Nice."


# --------------------------------------------------------------------------- download


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local HTTP server on 127.0.0.1 serving tmp_path/www; yields (base url, folder, requested paths)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    www = tmp_path / "www"
    www.mkdir()
    requested = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", www, requested
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_download_verifies_and_caches(server, archive, tmp_path):
    base, www, requested = server
    (www / archive.name).write_bytes(archive.read_bytes())
    md5, sha1 = digests(archive)
    cache = tmp_path / "dl"
    path = download_archive(f"{base}/{archive.name}", cache, progress=False, md5=md5, sha1=sha1)
    assert path == cache / archive.name and path.read_bytes() == archive.read_bytes()
    assert download_archive(f"{base}/{archive.name}", cache, progress=False, md5=md5, sha1=sha1) == path
    assert requested == [f"/{archive.name}"]  # the verified copy was reused
    assert sorted(p.name for p in cache.iterdir()) == [archive.name]  # no temp files left
    pd.testing.assert_frame_equal(load_labeled(path, progress=False), expected_labeled())


def test_damaged_cached_download_is_fetched_again(server, archive, tmp_path):
    base, www, requested = server
    (www / archive.name).write_bytes(archive.read_bytes())
    cache = tmp_path / "dl"
    cache.mkdir()
    (cache / archive.name).write_bytes(b"half a download")
    md5, sha1 = digests(archive)
    path = download_archive(f"{base}/{archive.name}", cache, progress=False, md5=md5, sha1=sha1)
    assert path.read_bytes() == archive.read_bytes() and len(requested) == 1


@pytest.mark.parametrize("wrong", ["md5", "sha1"])
def test_checksum_mismatch_deletes_download(server, archive, tmp_path, wrong):
    base, www, _ = server
    (www / archive.name).write_bytes(archive.read_bytes())
    md5, sha1 = digests(archive)
    expected = {"md5": md5, "sha1": sha1}
    expected[wrong] = "0" * len(expected[wrong])
    cache = tmp_path / "dl"
    with pytest.raises(DataError) as err:
        download_archive(f"{base}/{archive.name}", cache, progress=False, **expected)
    message = str(err.value)
    assert archive.name in message and "checksum mismatch" in message
    assert expected[wrong] in message and md5 in message and sha1 in message  # expected and actual digests
    assert list(cache.iterdir()) == []


def test_download_http_error(server, tmp_path):
    base, _, _ = server
    with pytest.raises(DataError, match=r"Could not download .*/missing\.tar\.gz"):
        download_archive(f"{base}/missing.tar.gz", tmp_path / "dl", progress=False)
    assert list((tmp_path / "dl").iterdir()) == []


# --------------------------------------------------------------------------- the real dataset


def real_data() -> str:
    """IMDB_DATA from the environment; skip without it, except in CI where missing data is a failure."""
    if not REAL_DATA:
        if os.environ.get("CI") == "true":
            pytest.fail("IMDB_DATA is not set: CI must provide the dataset (a parquet, aclImdb folder or archive).")
        pytest.skip("set IMDB_DATA to run the integration tests on the real dataset")
    return REAL_DATA


def test_real_labeled():
    df = load_labeled(real_data(), progress=False)
    assert len(df) == 50_000
    assert df.groupby(["split", "label"]).size().to_dict() == {
        ("test", 0): 12_500, ("test", 1): 12_500, ("train", 0): 12_500, ("train", 1): 12_500}
    assert df.loc[df.label == 0, "rating"].between(1, 4).all()
    assert df.loc[df.label == 1, "rating"].between(7, 10).all()
    assert {c: str(t) for c, t in df.dtypes.items()} == {
        "split": "str", "label": "int8", "rating": "int8", "id": "int32", "movie": "str", "text": "str"}
    order = df.split.map(review_frame.SPLIT_ORDER)
    assert df.assign(o=order).sort_values(["o", "label", "id"]).index.equals(df.index)
    assert df.movie.str.fullmatch(r"(tt\d+)?").all()
    assert not df.duplicated(["split", "label", "id"]).any()


def test_real_unlabeled():
    df = load_unlabeled(real_data(), progress=False)
    assert len(df) == 50_000 and (df.split == "unsup").all()
    assert df.id.is_monotonic_increasing and df.id.is_unique
