"""Labelled image datasets for audits: a .zip (or, on the command line, a folder) whose sub-folders are the labels.

Layout (one optional top folder around it is allowed, as zipping a folder makes one):

    my-photos.zip
    ├── tabby/            a class of the model: its name, a synonym, its index (281) or WordNet id (n02123045)
    │   ├── 001.jpg
    │   └── 002.png
    └── espresso/
        └── 003.webp

Every file must be a PNG, JPEG or WebP image (read from its content, not its name) directly inside a class folder.
Skipped: hidden files and folders (".DS_Store", "__MACOSX/", names starting with "."), Thumbs.db and desktop.ini.
Refused, with what to change: names with "..", absolute or drive paths and backslashes (path traversal), links,
encrypted entries, more than MAX_ENTRIES entries, more than MAX_TOTAL_BYTES uncompressed in all (declared sizes are
summed before anything is decompressed, and zipfile never reads past an entry's declared size, so a zip bomb stops
at the cap), and images over backend.image.input's per-file and pixel limits. Nothing is ever extracted to disk.

Images are ordered round-robin over the classes (the first of each class, then the second, ...) so that any prefix
of the dataset (`--limit N`) mixes the classes.
"""
from __future__ import annotations

import hashlib
import stat
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, zip_longest
from pathlib import Path, PurePosixPath
from typing import Iterator, Sequence

from backend.errors import UserInputError
from backend.image.input import open_checked
from backend.schemas.audit import MAX_AUDIT_ITEMS
from backend.schemas.image import MAX_UPLOAD_BYTES

MAX_ENTRIES = 2 * MAX_AUDIT_ITEMS
MAX_TOTAL_BYTES = 512 * 2**20
IGNORED_NAMES = {"thumbs.db", "desktop.ini"}
LAYOUT_HINT = ("put each image directly in a folder named after its label, e.g. tabby/001.jpg (one top folder "
               "around the class folders is fine)")


@dataclass(frozen=True)
class LabelledImage:
    """One image: its path inside the dataset ("tabby/001.jpg", POSIX) and its class folder as written ("tabby")."""

    path: str
    folder: str


@dataclass(frozen=True)
class ImageFolder:
    """A checked labelled image dataset: where it is, whether it is a zip, the top folder to strip ("" or
    "name/"), its images in round-robin class order, and the SHA-256 of its content."""

    source: Path
    is_zip: bool
    top: str
    images: tuple[LabelledImage, ...]
    sha256: str

    @property
    def folders(self) -> list[str]:
        """The class folders, in first-seen order."""
        return list(dict.fromkeys(image.folder for image in self.images))

    def read(self, images: Sequence[LabelledImage]) -> Iterator[bytes]:
        """The bytes of each image in turn (at most MAX_UPLOAD_BYTES + 1 of each are read; the zip is opened once)."""
        if not self.is_zip:
            for image in images:
                with open(self.source / image.path, "rb") as file:
                    yield file.read(MAX_UPLOAD_BYTES + 1)
            return
        with zipfile.ZipFile(self.source) as archive:
            for image in images:
                with archive.open(self.top + image.path) as member:
                    yield member.read(MAX_UPLOAD_BYTES + 1)


def safe_member_path(name: str) -> str:
    """A zip member's name as a relative POSIX path; UserInputError for absolute, drive or backslash names and
    '..' parts (path traversal), whatever the archive's tool meant by them."""
    if "\\" in name or "\x00" in name:
        raise UserInputError(f"the zip entry {name!r} has a backslash or NUL in its name; re-create the zip with "
                             f"forward-slash paths such as tabby/001.jpg")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")) or ".." in path.parts:
        raise UserInputError(f"the zip entry {name!r} points outside the archive (absolute path, drive or '..'); "
                             f"re-create the zip from inside the dataset folder")
    return str(path)


def is_ignored(path: str) -> bool:
    """Operating-system clutter that is skipped: hidden files or folders (including __MACOSX), Thumbs.db,
    desktop.ini."""
    parts = PurePosixPath(path).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts) or parts[-1].lower() in IGNORED_NAMES


def zip_member_paths(archive: zipfile.ZipFile, *, max_entries: int = MAX_ENTRIES,
                     max_total_bytes: int = MAX_TOTAL_BYTES) -> list[str]:
    """The paths of the archive's files (not folders, not ignored clutter) after every safety check."""
    infos = archive.infolist()
    if len(infos) > max_entries:
        raise UserInputError(f"the zip has {len(infos)} entries; at most {max_entries} are accepted: split it")
    declared = sum(info.file_size for info in infos)
    if declared > max_total_bytes:
        raise UserInputError(f"the zip unpacks to {declared / 2**20:.0f} MiB; at most {max_total_bytes // 2**20} MiB "
                             f"are accepted: split it or use smaller images")
    paths = []
    for info in infos:
        path = safe_member_path(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UserInputError(f"the zip entry {path!r} is a link; zip the files themselves")
        if info.flag_bits & 0x1:
            raise UserInputError(f"the zip entry {path!r} is encrypted; zip it without a password")
        if not info.is_dir() and not is_ignored(path):
            paths.append(path)
    return paths


def strip_top_folder(paths: list[str]) -> tuple[str, list[str]]:
    """("top/", paths without it) when every path lies in one top folder that holds class folders, else ("",
    paths)."""
    tops = {PurePosixPath(p).parts[0] for p in paths}
    if len(tops) == 1 and all(len(PurePosixPath(p).parts) == 3 for p in paths):
        top = tops.pop() + "/"
        return top, [p[len(top):] for p in paths]
    return "", paths


def class_layout(paths: list[str]) -> list[LabelledImage]:
    """Images with their class folder, in round-robin class order; UserInputError for files outside a class
    folder, deeper nesting, or no file at all."""
    if not paths:
        raise UserInputError(f"the dataset holds no image: {LAYOUT_HINT}")
    by_folder: dict[str, list[LabelledImage]] = {}
    for path in sorted(paths):
        parts = PurePosixPath(path).parts
        if len(parts) != 2:
            where = "is not inside a class folder" if len(parts) == 1 else "is nested more than one folder deep"
            raise UserInputError(f"{path} {where}: {LAYOUT_HINT}")
        by_folder.setdefault(parts[0], []).append(LabelledImage(path=path, folder=parts[0]))
    if sum(len(images) for images in by_folder.values()) > MAX_AUDIT_ITEMS:
        raise UserInputError(f"the dataset has {len(paths)} images; at most {MAX_AUDIT_ITEMS} can be audited: "
                             f"split it")
    rounds = zip_longest(*by_folder.values())
    return [image for image in chain.from_iterable(rounds) if image is not None]


def check_image(path: str, data: bytes) -> None:
    """UserInputError naming the file when its content is not an acceptable PNG, JPEG or WebP image."""
    try:
        open_checked(data)
    except UserInputError as exc:
        raise UserInputError(f"{path}: {exc} (every file in a class folder must be an image: remove or convert "
                             f"this one)") from None


def folder_paths(root: Path, *, max_entries: int = MAX_ENTRIES, max_total_bytes: int = MAX_TOTAL_BYTES) -> list[str]:
    """The relative paths of a folder's files (clutter skipped); links and oversized folders are refused."""
    paths, total = [], 0
    for count, entry in enumerate(sorted(root.rglob("*")), start=1):
        if count > max_entries:
            raise UserInputError(f"{root} has more than {max_entries} entries; split it")
        relative = entry.relative_to(root).as_posix()
        if entry.is_symlink():
            raise UserInputError(f"{relative} is a link; copy the file itself into the dataset folder")
        if entry.is_dir() or is_ignored(relative):
            continue
        total += entry.stat().st_size
        if total > max_total_bytes:
            raise UserInputError(f"{root} holds more than {max_total_bytes // 2**20} MiB; split it")
        paths.append(relative)
    return paths


def scan(source: Path, *, max_entries: int = MAX_ENTRIES, max_total_bytes: int = MAX_TOTAL_BYTES) -> ImageFolder:
    """Check a zip or a folder and list its labelled images (every file's content checked, none decoded)."""
    if source.is_dir():
        top, paths = "", folder_paths(source, max_entries=max_entries, max_total_bytes=max_total_bytes)
    else:
        with zipfile.ZipFile(source) as archive:
            top, paths = strip_top_folder(zip_member_paths(archive, max_entries=max_entries,
                                                           max_total_bytes=max_total_bytes))
    unhashed = ImageFolder(source, not source.is_dir(), top, tuple(class_layout(paths)), "")
    digest = hashlib.sha256()
    ordered = sorted(unhashed.images, key=lambda i: i.path)
    for image, data in zip(ordered, unhashed.read(ordered)):
        check_image(image.path, data)
        digest.update(f"{image.path}\n{len(data)}\n".encode())
        digest.update(data)
    return ImageFolder(source, unhashed.is_zip, top, unhashed.images, digest.hexdigest())


@lru_cache(maxsize=8)
def _cached_scan(source: Path, _modified_ns: int, _size: int) -> ImageFolder:
    try:
        return scan(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise UserInputError(f"{source.name} is not a readable zip file ({exc}); re-create it with a zip tool") \
            from None


def open_image_folder(source: Path) -> ImageFolder:
    """The checked dataset at a zip path or folder, scanned once per version of the file (cached by path,
    modification time and size), so repeated batches and summaries do not re-read every image."""
    if not source.exists():
        raise UserInputError(f"no image dataset at {source}: give a .zip file or a folder of class folders")
    info = source.stat()
    if source.is_file() and not zipfile.is_zipfile(source):
        raise UserInputError(f"{source.name} is not a zip file: give a .zip of class folders (or, on the command "
                             f"line, a folder)")
    return _cached_scan(source.resolve(), info.st_mtime_ns, info.st_size)
