"""Image file I/O and pixel <-> tensor conversion."""

from superres.io.image import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_ENV,
    READ_EXTENSIONS,
    SUPPORTED_EXTENSIONS,
    LoadedImage,
    check_extension,
    image_to_tensor,
    read_image,
    read_image_size,
    resolve_max_pixels,
    output_extension,
    scale_suffix,
    tensor_to_image,
    to_uint8,
    what_the_format_drops,
    write_image,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MAX_PIXELS_ENV",
    "READ_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "LoadedImage",
    "check_extension",
    "image_to_tensor",
    "read_image",
    "read_image_size",
    "resolve_max_pixels",
    "output_extension",
    "scale_suffix",
    "tensor_to_image",
    "to_uint8",
    "what_the_format_drops",
    "write_image",
]
