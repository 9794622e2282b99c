"""Reading images: bundled samples, and every kind of bad or unusual upload gets a clear message or a noted
conversion. Files are made here, byte by byte where Pillow cannot write them (16-bit colour, bomb headers)."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from backend.errors import UserInputError
from backend.image.input import read_image, read_upload, sample_image
from backend.schemas.image import MAX_UPLOAD_BYTES, SAMPLE_NAMES, ImageInput


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def raw_png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    """A PNG written by hand (Pillow cannot write 16-bit colour, nor lie about its size)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(rows))
            + png_chunk(b"IEND", b""))


def photo(size=(40, 30)) -> Image.Image:
    generator = np.random.default_rng(0)
    return Image.fromarray(generator.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_samples_are_real_rgb_photos(name):
    read = read_image(ImageInput(sample=name))
    assert read.image.mode == "RGB" and min(read.image.size) >= 300
    assert read.info.format == "sample" and read.info.name == name and read.info.notes == []


def test_unknown_sample_name():
    with pytest.raises(UserInputError, match="unknown sample"):
        sample_image("dog")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_accepted_formats_read_as_rgb(fmt):
    read = read_upload(encode(photo(), fmt), "x.bin")
    assert read.image.mode == "RGB" and read.image.size == (40, 30)
    assert read.info.format == fmt and read.info.notes == []


def test_phone_multi_picture_jpeg_counts_as_jpeg():
    image = photo()
    data = encode(image, "MPO", save_all=True, append_images=[image])
    read = read_upload(data, "IMG_0001.JPG")
    assert read.info.format == "JPEG" and read.image.size == (40, 30)


def test_type_comes_from_the_content_not_the_name():
    assert read_upload(encode(photo(), "PNG"), "holiday.jpg").info.format == "PNG"
    with pytest.raises(UserInputError, match="GIF image; upload PNG, JPEG or WebP"):
        read_upload(encode(photo(), "GIF"), "renamed.png")
    with pytest.raises(UserInputError, match="BMP image"):
        read_upload(encode(photo(), "BMP"), "renamed.jpg")


@pytest.mark.parametrize("data", [b"hello, this is text", b"%PDF-1.4\n" + bytes(200), bytes(range(256)) * 4])
def test_non_images_are_refused(data):
    with pytest.raises(UserInputError, match="not an image that can be read"):
        read_upload(data, "x.png")


def test_empty_and_oversized_files():
    with pytest.raises(UserInputError, match="empty"):
        read_upload(b"", "x.png")
    with pytest.raises(UserInputError, match="upload at most 20 MiB"):
        read_upload(b"\x89PNG" + bytes(MAX_UPLOAD_BYTES), "x.png")


def test_pixel_cap_is_checked_from_the_header_before_decoding():
    # 8000 x 6000 = 48 MP claimed by a tiny file whose pixel data is missing: decoding it would fail differently
    bomb = raw_png(8000, 6000, 8, 2, b"")
    assert len(bomb) < 100
    with pytest.raises(UserInputError, match=r"8000 x 6000 = 48.0 million pixels; the limit is 40 million"):
        read_upload(bomb, "bomb.png")


def test_a_header_beyond_pillows_own_bomb_limit_gets_the_same_kind_of_message():
    with pytest.raises(UserInputError, match="million pixels, which could exhaust memory"):
        read_upload(raw_png(100_000, 100_000, 8, 2, b""), "bomb.png")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated_files_are_refused(fmt):
    data = encode(photo((200, 150)), fmt)
    with pytest.raises(UserInputError, match=r"truncated or corrupt|not an image that can be read"):
        read_upload(data[:len(data) // 2], "cut")


def test_corrupt_pixel_data_is_refused():
    data = bytearray(encode(photo((120, 90)), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start:start + 200] = bytes(200)
    with pytest.raises(UserInputError, match="truncated or corrupt"):
        read_upload(bytes(data), "broken.png")


def test_cmyk_jpeg_is_converted_with_a_note():
    read = read_upload(encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG"), "print.jpg")
    assert read.info.mode == "CMYK" and read.image.mode == "RGB"
    assert "CMYK colours converted to RGB" in read.info.notes
    red, green, blue = read.image.getpixel((4, 4))
    assert red > 200 and green < 60 and blue < 60


def test_16_bit_grayscale_is_scaled_to_8_bits():
    values = np.array([[0, 257 * 128], [65535, 257 * 10]], dtype=np.uint16)
    read = read_upload(encode(Image.fromarray(values), "PNG"), "depth.png")
    assert read.info.mode.startswith("I;16")
    assert "16-bit grayscale scaled to 8 bits" in read.info.notes and "grayscale converted to RGB" in read.info.notes
    assert np.asarray(read.image)[..., 0].tolist() == [[0, 128], [255, 10]]


def test_16_bit_colour_is_reduced_with_a_note():
    pixels = np.zeros((2, 2, 3), dtype=">u2")
    pixels[..., 0] = 65535
    rows = b"".join(b"\x00" + pixels[row].tobytes() for row in range(2))
    read = read_upload(raw_png(2, 2, 16, 2, rows), "deep.png")
    assert "16 bits per channel reduced to 8 bits" in read.info.notes
    assert read.image.getpixel((0, 0)) == (255, 0, 0)


def test_transparency_is_placed_on_white():
    image = Image.new("RGBA", (4, 4), (255, 0, 0, 255))
    image.putpixel((0, 0), (0, 0, 255, 0))
    read = read_upload(encode(image, "PNG"), "logo.png")
    assert "transparent areas placed on a white background" in read.info.notes
    assert read.image.getpixel((0, 0)) == (255, 255, 255) and read.image.getpixel((3, 3)) == (255, 0, 0)


def test_grayscale_with_alpha_and_palette_images():
    read = read_upload(encode(Image.new("LA", (4, 4), (100, 255)), "PNG"), "la.png")
    assert read.image.getpixel((1, 1)) == (100, 100, 100) and "grayscale converted to RGB" in read.info.notes
    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    read = read_upload(encode(palette, "PNG"), "p.png")
    assert read.image.getpixel((0, 0)) == (10, 200, 30) and "palette colours expanded" in read.info.notes


def test_grayscale_becomes_three_equal_channels():
    read = read_upload(encode(Image.new("L", (3, 3), 77), "JPEG"), "gray.jpg")
    assert read.image.getpixel((1, 1)) == (77, 77, 77) and "grayscale converted to RGB" in read.info.notes


def test_exif_orientation_is_applied():
    image = photo((40, 30))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    read = read_upload(encode(image, "JPEG", exif=exif), "phone.jpg")
    assert read.image.size == (30, 40) and "rotated as its EXIF orientation says" in read.info.notes


def test_animated_webp_uses_the_first_frame():
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    read = read_upload(data, "anim.webp")
    assert "animated image: the first of 2 frames is used" in read.info.notes
    assert read.image.getpixel((4, 4)) == (255, 0, 0)


def test_image_input_needs_exactly_one_source():
    with pytest.raises(ValidationError, match="exactly one image"):
        ImageInput()
    with pytest.raises(ValidationError, match="exactly one image"):
        ImageInput(sample="cat", data=b"x")
    with pytest.raises(ValidationError, match="the uploaded file is empty"):
        ImageInput(data=b"")
    with pytest.raises(ValidationError, match="upload at most 20 MiB"):
        ImageInput(data=bytes(MAX_UPLOAD_BYTES + 1))
    with pytest.raises(ValidationError):
        ImageInput(sample="dog")


def test_image_bytes_round_trip_through_json():
    source = ImageInput(data=encode(photo(), "PNG"), filename="a.png")
    assert ImageInput.model_validate_json(source.model_dump_json()) == source


def test_a_huge_upload_is_shrunk_right_after_decoding_and_says_so():
    from backend.image.input import MAX_ANALYSED_SIDE

    buffer = io.BytesIO()
    Image.new("RGB", (5000, 3000), (200, 30, 30)).save(buffer, "PNG")
    read = read_upload(buffer.getvalue(), "big.png")
    assert max(read.image.size) <= MAX_ANALYSED_SIDE and read.image.size == (1667, 1000)
    assert any("shrunk from 5000 x 3000 to 1667 x 1000" in note for note in read.info.notes)


def test_a_huge_jpeg_decodes_at_a_reduced_scale():
    from backend.image.input import MAX_ANALYSED_SIDE

    buffer = io.BytesIO()
    Image.new("RGB", (6000, 4000), (10, 90, 200)).save(buffer, "JPEG")
    read = read_upload(buffer.getvalue(), "big.jpg")
    assert max(read.image.size) <= MAX_ANALYSED_SIDE
    assert read.image.getpixel((10, 10))[2] > 150
