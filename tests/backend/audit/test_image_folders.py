"""Labelled image zips and folders: the layout, the order, and every kind of bad archive refused by name."""
from __future__ import annotations

import stat
import zipfile

import pytest

from backend.audit.image_folders import class_layout, open_image_folder, safe_member_path, scan
from backend.errors import UserInputError
from tests.backend.audit.photo_zips import labelled_entries, photo, write_labelled_zip, zip_bytes


def test_zip_layout_with_a_top_folder_and_clutter(tmp_path):
    entries = {**labelled_entries("my photos/"), "__MACOSX/my photos/._x.png": b"junk",
               "my photos/Tiger_Cat/.DS_Store": b"junk", "my photos/967/Thumbs.db": b"junk"}
    path = tmp_path / "photos.zip"
    path.write_bytes(zip_bytes(entries))
    folder = open_image_folder(path)
    assert folder.is_zip and folder.top == "my photos/"
    assert folder.folders == ["967", "Tiger_Cat", "n03773504"]
    # round-robin over classes, so any prefix mixes them
    assert [i.path for i in folder.images] == ["967/coffee.jpg", "Tiger_Cat/chelsea-flipped.jpg",
                                               "n03773504/rocket.jpg", "Tiger_Cat/chelsea.png"]
    assert list(folder.read(folder.images[:1])) == [entries["my photos/967/coffee.jpg"]]
    assert open_image_folder(path) is folder  # scanned once per file version


def test_a_folder_gives_the_same_images_and_hash_as_its_zip(tmp_path):
    zipped = open_image_folder(write_labelled_zip(tmp_path / "a.zip"))
    root = tmp_path / "tree"
    for name, data in labelled_entries().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    folder = open_image_folder(root)
    assert not folder.is_zip and folder.images == zipped.images and folder.sha256 == zipped.sha256


def test_any_prefix_mixes_classes():
    images = class_layout([f"a/{i}.png" for i in range(3)] + ["b/0.png", "c/0.png"])
    assert [i.folder for i in images] == ["a", "b", "c", "a", "a"]


@pytest.mark.parametrize("name", ["../evil.png", "a/../../evil.png", "/etc/evil.png", "C:/evil.png",
                                  "a\\evil.png"])
def test_path_traversal_names_are_refused(name):
    with pytest.raises(UserInputError, match="outside the archive|backslash"):
        safe_member_path(name)


def write(tmp_path, entries, name="bad.zip"):
    path = tmp_path / name
    path.write_bytes(zip_bytes(entries))
    return path


@pytest.mark.parametrize("entries, message", [
    ({"cat.png": b""}, "cat.png is not inside a class folder"),
    ({"cats/tabby/1.png": b"", "dogs/pug/1.png": b""}, "nested more than one folder deep"),
    ({"__MACOSX/._a": b"x"}, "holds no image"),
    ({"tabby/notes.txt": b"not an image"}, "tabby/notes.txt: this file is not an image"),
    ({"tabby/x.png": b"GIF89a" + b"\0" * 20}, "tabby/x.png"),
    ({"../tabby/x.png": b""}, "outside the archive"),
])
def test_bad_layouts_and_files_say_what_to_change(tmp_path, entries, message):
    with pytest.raises(UserInputError, match=message):
        open_image_folder(write(tmp_path, entries))


def test_zip_bombs_and_oversized_archives_are_refused_before_decompressing(tmp_path):
    bomb = write(tmp_path, {"tabby/zeros.png": bytes(4 * 2**20)}, "bomb.zip")
    assert bomb.stat().st_size < 64 * 1024  # 4 MiB of zeros deflate to a few KiB
    with pytest.raises(UserInputError, match="unpacks to 4 MiB; at most 1 MiB"):
        scan(bomb, max_total_bytes=2**20)
    liar = bytearray(zip_bytes({"tabby/zeros.png": bytes(4 * 2**20)}))  # headers claim 10 bytes
    for signature, size_offset in ((b"PK\3\4", 22), (b"PK\1\2", 24)):
        start = liar.index(signature) + size_offset
        liar[start:start + 4] = (10).to_bytes(4, "little")
    (tmp_path / "liar.zip").write_bytes(bytes(liar))
    with pytest.raises(UserInputError, match="not a readable zip file"):  # reading stops at the declared size
        open_image_folder(tmp_path / "liar.zip")
    many = write(tmp_path, {f"tabby/{i}.png": b"" for i in range(5)}, "many.zip")
    with pytest.raises(UserInputError, match="5 entries; at most 4"):
        scan(many, max_entries=4)


def encrypted_flag_set(data: bytes) -> bytes:
    """The zip with the 'encrypted' bit set in its (single) local and central headers, as a password tool sets it."""
    forged = bytearray(data)
    for signature, flag_offset in ((b"PK\3\4", 6), (b"PK\1\2", 8)):
        forged[forged.index(signature) + flag_offset] |= 0x1
    return bytes(forged)


def test_links_encrypted_entries_and_non_zips_are_refused(tmp_path):
    link = zipfile.ZipInfo("tabby/link.png")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as archive:
        archive.writestr(link, photo("cat"))
    with pytest.raises(UserInputError, match="is a link"):
        open_image_folder(tmp_path / "link.zip")
    (tmp_path / "locked.zip").write_bytes(encrypted_flag_set(zip_bytes({"tabby/locked.png": photo("cat")})))
    with pytest.raises(UserInputError, match="encrypted"):
        open_image_folder(tmp_path / "locked.zip")
    (tmp_path / "fake.zip").write_bytes(b"PK\3\4 not really a zip")
    with pytest.raises(UserInputError, match="not a zip file"):
        open_image_folder(tmp_path / "fake.zip")
    with pytest.raises(UserInputError, match="no image dataset"):
        open_image_folder(tmp_path / "missing.zip")


def test_links_in_a_folder_are_refused(tmp_path):
    (tmp_path / "tabby").mkdir()
    (tmp_path / "tabby" / "cat.png").symlink_to("/etc/hostname")
    with pytest.raises(UserInputError, match="is a link"):
        open_image_folder(tmp_path)
