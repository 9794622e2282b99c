"""Reading an image safely: bundled sample photos, and uploads checked by content before they are decoded.

Uploads are identified by what the bytes are (Pillow's decoders), never by the file name. The pixel count is
read from the header and checked before any pixel is decoded (decompression bombs); truncated and corrupt files
are refused; CMYK, 16-bit, palette, alpha and grayscale images become 8-bit RGB, each conversion noted. Decoded
memory is bounded: at most MAX_IMAGE_PIXELS pixels are decoded (JPEGs straight at a reduced scale), and an image
whose long side passes MAX_ANALYSED_SIDE is shrunk at once, before any conversion copies it.
"""
from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from backend.errors import UserInputError
from backend.schemas.image import MAX_IMAGE_PIXELS, MAX_UPLOAD_BYTES, ImageInfo, ImageInput

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
JPEG_VARIANTS = {"MPO": "JPEG"}  # phone cameras' multi-picture JPEGs open as MPO
SAMPLE_FUNCTIONS = {"cat": "chelsea", "coffee": "coffee", "astronaut": "astronaut", "rocket": "rocket"}
WIDE_GRAY_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
WHITE = (255, 255, 255, 255)
EXIF_ORIENTATION = 0x0112
MAX_ANALYSED_SIDE = 2048  # pixels; larger uploads are shrunk right after decoding (decoded memory stays bounded)


@dataclass
class ReadImage:
    """An 8-bit RGB image and what was done to get it."""

    image: Image.Image
    info: ImageInfo


def sample_image(name: str) -> Image.Image:
    """A bundled photo from scikit-image's data module (shipped inside its wheel, no download)."""
    if name not in SAMPLE_FUNCTIONS:
        raise UserInputError(f"unknown sample {name!r}; pick one of {', '.join(SAMPLE_FUNCTIONS)}")
    from skimage import data as skimage_data

    return Image.fromarray(getattr(skimage_data, SAMPLE_FUNCTIONS[name])()).convert("RGB")


def open_checked(data: bytes, *, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """Open the bytes lazily and check type and size from the header alone (no pixel is decoded yet).

    Raises UserInputError for an empty or oversized file, unreadable content, a type other than PNG, JPEG or
    WebP, or more than max_pixels pixels.
    """
    if not data:
        raise UserInputError("the file is empty: choose a PNG, JPEG or WebP image")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UserInputError(f"the file is {len(data) / 2**20:.1f} MiB; upload at most "
                             f"{MAX_UPLOAD_BYTES // 2**20} MiB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise UserInputError(f"the image claims more than {max_pixels / 1e6:.0f} million pixels, which could "
                             f"exhaust memory; resize it first") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise UserInputError("this file is not an image that can be read (it may be corrupt or of another "
                             "type); upload a PNG, JPEG or WebP image") from None
    if JPEG_VARIANTS.get(image.format, image.format) not in ACCEPTED_FORMATS:
        raise UserInputError(f"this file is a {image.format} image; upload PNG, JPEG or WebP (the type is read "
                             f"from the content, not the name)")
    width, height = image.size
    if width * height > max_pixels:
        raise UserInputError(f"the image is {width} x {height} = {width * height / 1e6:.1f} million pixels; the "
                             f"limit is {max_pixels / 1e6:.0f} million: resize it first")
    return image


def decode_fully(image: Image.Image) -> None:
    """Decode every pixel now, turning truncated or corrupt data into a clear message."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise UserInputError(f"the {image.format} file is truncated or corrupt (its pixels could not all be "
                             f"read); upload the complete file or re-save it") from None


def reduce_for_analysis(image: Image.Image) -> Image.Image:
    """A decoded image whose long side passes MAX_ANALYSED_SIDE, shrunk by a whole factor (box filter) right after
    decoding, so the conversions and the model's resize never copy the full-size pixels. The models read
    224-384 px crops of the short side resized, so nothing they see is lost."""
    factor = math.ceil(max(image.size) / MAX_ANALYSED_SIDE)
    if factor <= 1:
        return image
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    return image.reduce(factor)


def draft_large_jpeg(image: Image.Image) -> None:
    """Let a large JPEG decode straight at a reduced scale (1/2 to 1/8) that keeps its long side at least
    MAX_ANALYSED_SIDE, instead of decoding every pixel first."""
    if image.format in ("JPEG", "MPO") and max(image.size) > MAX_ANALYSED_SIDE:
        scale = max(image.size) / MAX_ANALYSED_SIDE
        image.draft(image.mode, (math.ceil(image.width / scale), math.ceil(image.height / scale)))


def stores_16_bit_colour(image: Image.Image) -> bool:
    """Whether the file holds 16 bits per colour channel (Pillow decodes such PNGs to 8-bit RGB): the raw mode
    of its first tile, e.g. "RGB;16B" (a string, or the first item of a tuple, depending on the decoder)."""
    if not image.tile or image.mode.startswith("I"):
        return False
    args = image.tile[0].args
    raw_mode = args[0] if isinstance(args, tuple) and args else args
    return isinstance(raw_mode, str) and ";16" in raw_mode


def to_rgb(image: Image.Image) -> tuple[Image.Image, list[str]]:
    """8-bit RGB from any decoded mode, with one plain-words note per conversion.

    16-bit grayscale is scaled by 255/65535; alpha is composited over white; palettes are expanded; CMYK and
    other colour spaces go through Pillow's conversion.
    """
    notes: list[str] = []
    grayscale = image.mode in ("L", "LA", "La", "1", *WIDE_GRAY_MODES)
    if image.mode in WIDE_GRAY_MODES:
        wide = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(wide / 65535.0 * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
        notes.append("16-bit grayscale scaled to 8 bits")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        notes.append("palette colours expanded")
    if image.mode in ALPHA_MODES:
        rgba = image.convert("RGBA")
        if rgba.getchannel("A").getextrema()[0] < 255:
            notes.append("transparent areas placed on a white background")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, WHITE), rgba)
    if grayscale:
        notes.append("grayscale converted to RGB")
    elif image.mode == "CMYK":
        notes.append("CMYK colours converted to RGB")
    elif image.mode not in ("RGB", "RGBA"):
        notes.append(f"{image.mode} colours converted to RGB")
    return image.convert("RGB"), notes


def read_upload(data: bytes, name: str = "", *, max_pixels: int = MAX_IMAGE_PIXELS) -> ReadImage:
    """Check, decode and convert an uploaded file to 8-bit RGB (EXIF rotation applied; first frame only)."""
    image = open_checked(data, max_pixels=max_pixels)
    source_format, source_mode = JPEG_VARIANTS.get(image.format, image.format), image.mode
    notes = ["16 bits per channel reduced to 8 bits"] if stores_16_bit_colour(image) else []
    if getattr(image, "n_frames", 1) > 1:
        notes.append(f"animated image: the first of {image.n_frames} frames is used")
    original = image.size
    draft_large_jpeg(image)
    decode_fully(image)
    image = reduce_for_analysis(image)
    if image.size != original:
        notes.append(f"shrunk from {original[0]} x {original[1]} to {image.width} x {image.height} pixels for "
                     f"analysis (the long side is kept to at most {MAX_ANALYSED_SIDE} px)")
    if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
        image = ImageOps.exif_transpose(image)
        notes.append("rotated as its EXIF orientation says")
    rgb, conversion_notes = to_rgb(image)
    info = ImageInfo(width=rgb.width, height=rgb.height, format=source_format, mode=source_mode,
                     name=name or "upload", notes=notes + conversion_notes)
    return ReadImage(image=rgb, info=info)


def read_image(source: ImageInput) -> ReadImage:
    """The RGB image a request names: a bundled sample or a checked upload."""
    if source.sample is not None:
        image = sample_image(source.sample)
        return ReadImage(image=image, info=ImageInfo(width=image.width, height=image.height, format="sample",
                                                     mode="RGB", name=source.sample))
    return read_upload(source.data or b"", source.filename)
