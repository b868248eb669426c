#!/usr/bin/env python3
"""Writes Tests/DEQCoreTests/NPYFixtures.swift: small .npy files written by NumPy, as base64.

The Swift tests must not need Python, so the files NumPy writes are generated once, here, and
embedded in the test source together with the shape and the exact bit pattern of every element.
Run it from the package root after changing the fixture list:

    python3 Tools/make_npy_fixtures.py

Needs NumPy (any 1.x or 2.x; the header format these files use has not changed since 1.9).
"""

import base64
import io
import pathlib

import numpy as np

OUTPUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/DEQCoreTests/NPYFixtures.swift"
RNG = np.random.default_rng(20240601)


def saved(array, version=None):
    """The bytes np.save writes for `array` (np.lib.format.write_array for an explicit version)."""
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array, allow_pickle=False)
    else:
        np.lib.format.write_array(buffer, array, version=version, allow_pickle=False)
    return buffer.getvalue()


def random_array(shape, dtype):
    return RNG.standard_normal(int(np.prod(shape, dtype=np.int64))).astype(dtype).reshape(shape)


def special_values(dtype):
    tiny = np.finfo(dtype).smallest_subnormal
    return np.array([1.0 / 3.0, -0.0, np.inf, -np.inf, np.nan, tiny, -2.5], dtype=dtype)


def bit_patterns(array):
    width = array.dtype.itemsize
    unsigned = np.dtype(f"<u{width}")
    return [int(v) for v in np.ascontiguousarray(array).view(unsigned).ravel()]


def swift_base64(data, indent):
    text = base64.b64encode(data).decode("ascii")
    width = 96 - indent
    lines = [text[i : i + width] for i in range(0, len(text), width)] or [""]
    pad = " " * indent
    return '"""\n' + "".join(pad + line + "\n" for line in lines) + pad + '"""'


def swift_int_list(values, indent, hexadecimal=False):
    items = [f"0x{v:X}" if hexadecimal else str(v) for v in values]
    if not items:
        return "[]"
    one_line = "[" + ", ".join(items) + "]"
    if len(one_line) + indent <= 90:
        return one_line
    pad = " " * (indent + 2)
    lines, line = [], ""
    for item in items:
        candidate = (line + " " if line else "") + item + ","
        if len(pad) + len(candidate) > 96:
            lines.append(line)
            line = item + ","
        else:
            line = candidate
    lines.append(line)
    return "[\n" + "".join(pad + l + "\n" for l in lines) + " " * indent + "]"


def valid_fixture(name, array, version=None, comment=""):
    data = saved(array, version)
    return (
        (f"    // {comment}\n" if comment else "")
        + "    NPYFixture(\n"
        f'      name: "{name}", descriptor: "{array.dtype.str}", shape: {list(array.shape)},\n'
        f"      version: {'nil' if version is None else f'.version{version[0]}'},\n"
        f"      bitPatterns: {swift_int_list(bit_patterns(array), 6, hexadecimal=True)},\n"
        f"      base64: {swift_base64(data, 8)}),\n"
    )


def malformed_fixture(name, data, comment):
    return (
        f"    // {comment}\n"
        f'    "{name}": {swift_base64(data, 4)},\n'
    )


def main():
    valid = []
    for dtype in ("<f4", "<f8"):
        bits = "float32" if dtype == "<f4" else "float64"
        valid.append(valid_fixture(f"{bits} rank 0", np.array(random_array((), dtype))))
        valid.append(valid_fixture(f"{bits} rank 1", random_array((5,), dtype)))
        valid.append(valid_fixture(f"{bits} rank 2", random_array((2, 3), dtype)))
        valid.append(valid_fixture(f"{bits} zero-size", random_array((2, 0, 3), dtype)))
        valid.append(valid_fixture(f"{bits} empty rank 1", random_array((0,), dtype)))
        valid.append(valid_fixture(f"{bits} rank 4", random_array((1, 2, 2, 3), dtype)))
        valid.append(
            valid_fixture(
                f"{bits} special values",
                special_values(dtype),
                comment=f"{bits}: 1/3, -0, inf, -inf, nan, smallest subnormal, -2.5",
            )
        )
        valid.append(valid_fixture(f"{bits} version 2.0", random_array((2, 3), dtype), (2, 0)))
        valid.append(valid_fixture(f"{bits} version 3.0", random_array((3, 2), dtype), (3, 0)))
    # A long first extent: the header's room for growth shrinks with its digit count.
    valid.append(valid_fixture("float64 long extent", random_array((1234567, 0), "<f8")))

    a23 = random_array((2, 3), "<f8")
    malformed = [
        malformed_fixture("big-endian", saved(a23.astype(">f8")), "a23 stored as '>f8'"),
        malformed_fixture("fortran order", saved(np.asfortranarray(a23)), "np.asfortranarray(a23)"),
        malformed_fixture("int32", saved(np.arange(3, dtype="<i4")), "np.arange(3, dtype='<i4')"),
        malformed_fixture("float16", saved(np.arange(3, dtype="<f2")), "np.arange(3, dtype='<f2')"),
        malformed_fixture(
            "structured",
            saved(np.zeros(2, dtype=[("a", "<f8"), ("b", "<f4")])),
            "np.zeros(2, dtype=[('a', '<f8'), ('b', '<f4')])",
        ),
    ]

    source = (
        "// Generated by Tools/make_npy_fixtures.py with NumPy "
        f"{np.__version__}; do not edit by hand.\n"
        "// Every file below is what np.save (or np.lib.format.write_array for an explicit\n"
        "// version) wrote for the array described next to it.\n"
        "\n"
        "import DEQCore\n"
        "\n"
        "/// `.npy` files written by NumPy, with their shapes and exact element bit patterns.\n"
        "enum NPYFixtures {\n"
        "  /// Valid float32 and float64 files.\n"
        "  static let valid: [NPYFixture] = [\n"
        + "".join(valid)
        + "  ]\n"
        "\n"
        "  /// Files NumPy writes that this library must refuse, by what is wrong with them.\n"
        "  static let refused: [String: String] = [\n"
        + "".join(malformed)
        + "  ]\n"
        "}\n"
    )
    OUTPUT.write_text(source)
    print(f"wrote {OUTPUT} ({len(valid)} valid, {len(malformed)} refused fixtures)")


if __name__ == "__main__":
    main()
