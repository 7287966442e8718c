#!/usr/bin/python3
"""Expected values for MedZoo's volume readers, computed by an independent reader (nibabel).

Run with Debian's /usr/bin/python3 (python3-nibabel, python3-numpy):

    make_reference.py ROOT [GENERATED] > nibabel.json

ROOT is the unpacked Debian test-data tree (testdata/root). GENERATED (default: a folder
"generated" beside ROOT) receives small NIfTI/Analyze files written here byte by byte with
nibabel's header classes, covering cases the Debian files lack (Analyze pairs with data, SPM
origin and scale factors, big-endian pairs, gzipped pairs, every datatype, qfac 0, no transform
codes, 2D and 5D, NaN slope, extensions). Both sets are then read back with nib.load.

Output: one JSON document
  {"nibabel": "<version>",
   "files": {"<path relative to ROOT>": entry},
   "generated": {"<file name in GENERATED>": entry},
   "metaimage": {"<path relative to ROOT>": entry}}
("metaimage" entries come from a small numpy reader below: nibabel does not read MetaImage.)
where entry holds what `medzoo inspect --json` must report for the file: class, format, datatype,
shape, spacing (zooms), affine (4x4, nibabel's), min/max/mean/sum over finite scaled voxels,
nanCount, count. An entry with "error" is a file nibabel cannot load at all (tests skip it); an
entry with "dataError" is one whose header nibabel reads but whose voxels it cannot (e.g. a .hdr
without its .img): the header fields are present, the statistics are not.
"""
import gzip
import io
import json
import os
import sys

import numpy as np
import nibabel as nib

SUFFIXES = (".nii", ".nii.gz", ".hdr", ".hdr.gz")
SEARCH = [
    "usr/lib/python3/dist-packages/nibabel/tests/data",
    "usr/lib/python3/dist-packages/nibabel/nicom/tests/data",
    "usr/share/mricron/templates",
    "usr/share/doc/insighttoolkit5-examples/examples/Data",
]
FORMATS = {
    "Nifti1Image": "nifti1",
    "Nifti1Pair": "nifti1",
    "Nifti2Image": "nifti2",
    "Nifti2Pair": "nifti2",
    "Spm2AnalyzeImage": "analyze",
    "Spm99AnalyzeImage": "analyze",
    "AnalyzeImage": "analyze",
}


def describe(path):
    img = nib.load(path)
    if isinstance(img, nib.cifti2.Cifti2Image):
        # CIFTI-2 is a NIfTI-2 file; compare the NIfTI view of it.
        img = nib.Nifti2Image.from_filename(path)
    cls = type(img).__name__
    fmt = FORMATS.get(cls)
    if fmt is None:
        return {"error": "not a NIfTI/Analyze image for nibabel: " + cls}
    hdr = img.header
    out = {
        "class": cls,
        "format": fmt,
        "datatype": str(hdr.get_data_dtype().name),
        "shape": [int(s) for s in img.shape],
        "spacing": [float(z) for z in hdr.get_zooms()],
        "affine": [[float(v) for v in row] for row in img.affine],
    }
    try:
        data = np.asanyarray(img.dataobj).astype(np.float64)
    except Exception as e:  # header readable, voxels not (a .hdr without its .img)
        out["dataError"] = "%s: %s" % (type(e).__name__, e)
        return out
    finite = data[np.isfinite(data)]
    out.update(nanCount=int(np.isnan(data).sum()), count=int(data.size))
    if finite.size:
        out.update(min=float(finite.min()), max=float(finite.max()),
                   mean=float(finite.mean()), sum=float(finite.sum()))
    return out


def walk(root):
    files = {}
    for rel in SEARCH:
        base = os.path.join(root, rel)
        if not os.path.isdir(base):
            continue
        for dirpath, _, names in os.walk(base):
            for name in sorted(names):
                if not name.endswith(SUFFIXES):
                    continue
                path = os.path.join(dirpath, name)
                key = os.path.relpath(path, root)
                try:
                    files[key] = describe(path)
                except Exception as e:  # recorded, not fatal: tests skip what nibabel cannot read
                    files[key] = {"error": "%s: %s" % (type(e).__name__, e)}
    return files


# ---------------------------------------------------------------------------------------------
# Generated files: headers built with nibabel's header classes, voxels written with numpy, so
# every byte is known; nib.load then reads them as an independent reader would.

def _data(shape, dtype, seed, nans=False):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        arr = rng.normal(100, 40, size=shape).astype(dt)
        if nans:
            arr.flat[::7] = np.nan
    else:
        info = np.iinfo(dt)
        lo, hi = max(info.min, -30000), min(info.max, 30000)
        arr = rng.integers(lo, hi, size=shape, endpoint=True).astype(dt)
        arr.flat[0] = info.min if dt.itemsize < 8 else lo  # extremes exercise sign handling
        arr.flat[-1] = info.max if dt.itemsize < 8 else hi
    return arr


def _write(path, payload, compress):
    if compress:
        # mtime=0 keeps the files identical from run to run
        with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(payload)
    else:
        with open(path, "wb") as f:
            f.write(payload)


def _voxels(hdr, arr):
    # Fortran order: i fastest, as NIfTI/Analyze store voxels
    return np.asarray(arr, dtype=hdr.get_data_dtype()).tobytes(order="F")


def write_single(path, hdr, arr, compress=False, extensions=()):
    for ext in extensions:
        hdr.extensions.append(ext)
    buf = io.BytesIO()
    hdr.write_to(buf)
    offset = int(hdr["vox_offset"])
    buf.write(b"\0" * (offset - buf.tell()))
    buf.write(_voxels(hdr, arr))
    _write(path, buf.getvalue(), compress)


def write_pair(hdr_path, img_path, hdr, arr, compress=False, img_offset=0):
    _write(hdr_path, hdr.binaryblock, compress)
    _write(img_path, b"\0" * img_offset + _voxels(hdr, arr), compress)


def nifti_header(klass, shape, dtype, endian="<", single=True):
    hdr = klass(endianness=endian)
    hdr.set_data_shape(shape)
    hdr.set_data_dtype(dtype)
    if single:
        hdr["vox_offset"] = klass.single_vox_offset
    return hdr


def generate(out):
    os.makedirs(out, exist_ok=True)
    made = []
    rot = nib.eulerangles.euler2mat(0.3, -0.2, 0.1)

    def aff(zooms, rotation=np.eye(3), trans=(-90.5, -126.25, -72.0)):
        a = np.eye(4)
        a[:3, :3] = rotation @ np.diag(zooms)
        a[:3, 3] = trans
        return a

    # Every datatype in a NIfTI-1 .nii, little-endian, sform + qform.
    for i, dt in enumerate(["uint8", "int8", "uint16", "int16", "uint32", "int32",
                            "uint64", "int64", "float32", "float64"]):
        hdr = nifti_header(nib.Nifti1Header, (5, 4, 3), dt)
        a = aff((1.5, 2.0, 2.5))
        hdr.set_sform(a, 2)
        hdr.set_qform(a, 1)
        name = "dtype_%s.nii" % dt
        write_single(os.path.join(out, name), hdr, _data((5, 4, 3), dt, i, nans=True))
        made.append(name)

    # Big-endian NIfTI-1 pair, float64 with NaNs, qform only, a rotation, pixdim[0] = 0 (read as 1).
    hdr = nifti_header(nib.nifti1.Nifti1PairHeader, (6, 5, 4), "float64", ">", single=False)
    hdr.set_qform(aff((2.0, 2.0, 3.0), rot), 1)
    hdr["pixdim"][0] = 0
    hdr.set_sform(None, 0)
    write_pair(os.path.join(out, "pair_be_qform.hdr"), os.path.join(out, "pair_be_qform.img"),
               hdr, _data((6, 5, 4), "float64", 20, nans=True))
    made.append("pair_be_qform.hdr")

    # Gzipped NIfTI-1 pair, int16 with slope and intercept, sform only.
    hdr = nifti_header(nib.nifti1.Nifti1PairHeader, (7, 6, 5), "int16", single=False)
    hdr.set_sform(aff((0.9, 0.9, 1.2), rot, (10, -20, 30)), 4)
    hdr.set_qform(None, 0)
    hdr["scl_slope"] = 0.25
    hdr["scl_inter"] = -12.5
    write_pair(os.path.join(out, "pair_scaled.hdr.gz"), os.path.join(out, "pair_scaled.img.gz"),
               hdr, _data((7, 6, 5), "int16", 21), compress=True)
    made.append("pair_scaled.hdr.gz")

    # NIfTI-2, big-endian, gzipped, with an extension (vox_offset beyond the header), 4D.
    hdr = nifti_header(nib.Nifti2Header, (4, 3, 2, 3), "float32", ">")
    hdr.set_sform(aff((1.0, 1.25, 1.5), rot), 1)
    hdr.set_qform(aff((1.0, 1.25, 1.5), rot), 1)
    hdr.set_zooms((1.0, 1.25, 1.5, 2.5))
    hdr["vox_offset"] = 0  # nibabel places the data right after the extension (544 + 4 + 48)
    ext = nib.nifti1.Nifti1Extension("comment", b"MedZoo reference extension" + b"\0" * 5)
    write_single(os.path.join(out, "nifti2_be_ext.nii.gz"), hdr,
                 _data((4, 3, 2, 3), "float32", 22, nans=True), compress=True, extensions=[ext])
    made.append("nifti2_be_ext.nii.gz")

    # No transform codes (nibabel's fallback affine), negative pixdims (read as absolute), 5D.
    hdr = nifti_header(nib.Nifti1Header, (3, 4, 2, 2, 2), "uint16")
    hdr["pixdim"][1:6] = [-2.0, 3.0, 0.0, 1.5, 4.0]
    hdr.set_sform(None, 0)
    hdr.set_qform(None, 0)
    write_single(os.path.join(out, "nocodes_5d.nii"), hdr, _data((3, 4, 2, 2, 2), "uint16", 23))
    made.append("nocodes_5d.nii")

    # 2D image, qform with a flip (qfac -1); NaN slope with an intercept: no scaling at all.
    hdr = nifti_header(nib.Nifti1Header, (9, 8), "int32", ">")
    hdr.set_qform(aff((0.5, 0.75, 1.0)) @ np.diag([1, 1, -1, 1]), 2)
    hdr["scl_slope"] = np.nan
    hdr["scl_inter"] = 5
    write_single(os.path.join(out, "flat_2d.nii"), hdr, _data((9, 8), "int32", 24))
    made.append("flat_2d.nii")

    # Analyze (SPM2) big-endian, SPM origin and scale factor + intercept (funused1/funused2).
    hdr = nib.spm2analyze.Spm2AnalyzeHeader(endianness=">")
    hdr.set_data_shape((8, 7, 6))
    hdr.set_data_dtype("int16")
    hdr.set_zooms((1.5, 1.5, 2.0))
    hdr["origin"][:3] = [4, 3, 2]
    hdr["scl_slope"] = 0.5
    hdr["scl_inter"] = 3.0
    write_pair(os.path.join(out, "analyze_be_origin.hdr"), os.path.join(out, "analyze_be_origin.img"),
               hdr, _data((8, 7, 6), "int16", 25))
    made.append("analyze_be_origin.hdr")

    # Analyze little-endian uint8, no origin (centre of the grid), scaling from glmax/glmin and
    # cal_max/cal_min (slope field 0), data at a vox_offset inside the .img.
    hdr = nib.spm2analyze.Spm2AnalyzeHeader(endianness="<")
    hdr.set_data_shape((10, 9, 4))
    hdr.set_data_dtype("uint8")
    hdr.set_zooms((1.0, 1.2, 3.0))
    hdr["scl_slope"] = 0
    hdr["glmin"], hdr["glmax"] = 0, 255
    hdr["cal_min"], hdr["cal_max"] = -1.0, 1.0
    hdr["vox_offset"] = 16
    write_pair(os.path.join(out, "analyze_cal.hdr"), os.path.join(out, "analyze_cal.img"),
               hdr, _data((10, 9, 4), "uint8", 26), img_offset=16)
    made.append("analyze_cal.hdr")

    # Analyze float32, gzipped pair, 4D (iSeg-like modalities stacked), implausible origin
    # (ignored: centre used).
    hdr = nib.spm2analyze.Spm2AnalyzeHeader(endianness="<")
    hdr.set_data_shape((6, 5, 4, 2))
    hdr.set_data_dtype("float32")
    hdr.set_zooms((1.0, 1.0, 1.0, 1.0))
    hdr["origin"][:3] = [100, 2, 2]
    write_pair(os.path.join(out, "analyze_4d.hdr.gz"), os.path.join(out, "analyze_4d.img.gz"),
               hdr, _data((6, 5, 4, 2), "float32", 27, nans=True), compress=True)
    made.append("analyze_4d.hdr.gz")

    entries = {}
    for name in made:
        try:
            entries[name] = describe(os.path.join(out, name))
        except Exception as e:
            entries[name] = {"error": "%s: %s" % (type(e).__name__, e)}
    return entries


# ---------------------------------------------------------------------------------------------
# MetaImage: nibabel has no reader, so this is a deliberately plain second implementation
# (numpy + zlib, following ITK's MetaImageIO: TransformMatrix values grouped per image axis,
# LPS world coordinates) that MedZoo's C# reader is compared with.

MET_TYPES = {"MET_UCHAR": "u1", "MET_CHAR": "i1", "MET_USHORT": "u2", "MET_SHORT": "i2",
             "MET_UINT": "u4", "MET_INT": "i4", "MET_ULONG": "u4", "MET_LONG": "i4",
             "MET_ULONG_LONG": "u8", "MET_LONG_LONG": "i8", "MET_FLOAT": "f4", "MET_DOUBLE": "f8"}


def describe_metaimage(path):
    import zlib
    with open(path, "rb") as f:
        raw = f.read()
    fields, pos = {}, 0
    while True:
        end = raw.index(b"\n", pos)
        line = raw[pos:end].decode("latin-1").strip()
        pos = end + 1
        if "=" in line:
            k, v = line.split("=", 1)
            fields[k.strip()] = v.strip()
            if k.strip() == "ElementDataFile":
                break
    n = int(fields["NDims"])
    dims = [int(v) for v in fields["DimSize"].split()]
    channels = int(fields.get("ElementNumberOfChannels", "1"))
    spacing = [float(v) for v in fields.get("ElementSpacing", fields.get("ElementSize", " ".join(["1"] * n))).split()]
    offset = [float(v) for v in (fields.get("Offset") or fields.get("Origin") or fields.get("Position") or " ".join(["0"] * n)).split()]
    matrix = fields.get("TransformMatrix") or fields.get("Rotation") or fields.get("Orientation")
    direction = np.eye(n) if matrix is None else np.array([float(v) for v in matrix.split()]).reshape(n, n).T
    msb = fields.get("BinaryDataByteOrderMSB", fields.get("ElementByteOrderMSB", "False")).lower() == "true"
    dtype = np.dtype(MET_TYPES[fields["ElementType"].replace("_ARRAY", "")]).newbyteorder(">" if msb else "<")
    count = int(np.prod(dims)) * channels
    datafile = fields["ElementDataFile"]
    if datafile == "LOCAL":
        blob = raw[pos:]
    else:
        with open(os.path.join(os.path.dirname(path), datafile), "rb") as f:
            blob = f.read()
    if fields.get("CompressedData", "False").lower() == "true":
        blob = zlib.decompress(blob)
    header_size = int(fields.get("HeaderSize", "0"))
    if header_size == -1:
        blob = blob[len(blob) - count * dtype.itemsize:]
    elif header_size > 0 and datafile != "LOCAL":
        blob = blob[header_size:]
    data = np.frombuffer(blob, dtype=dtype, count=count).astype(np.float64)
    # 3D RAS affine: LPS = offset + D diag(spacing) index; RAS negates x and y.
    d3, s3, o3 = np.eye(3), np.ones(3), np.zeros(3)
    k = min(n, 3)
    d3[:k, :k] = direction[:k, :k]
    s3[:k] = spacing[:k]
    o3[:k] = offset[:k]
    affine = np.eye(4)
    affine[:3, :3] = np.diag([-1, -1, 1]) @ d3 @ np.diag(s3)
    affine[:3, 3] = np.diag([-1, -1, 1]) @ o3
    finite = data[np.isfinite(data)]
    out = {
        "format": "metaimage",
        "datatype": dtype.newbyteorder("=").name,
        # components are a channel dimension after (at least) three spatial ones, as in MedZoo
        "shape": dims + ([1] * max(0, 3 - n) + [channels] if channels > 1 else []),
        "spacing": spacing + ([1.0] * max(0, 3 - n) + [1.0] if channels > 1 else []),
        "affine": [[float(v) for v in row] for row in affine],
        "nanCount": int(np.isnan(data).sum()),
        "count": int(data.size),
    }
    if finite.size:
        out.update(min=float(finite.min()), max=float(finite.max()),
                   mean=float(finite.mean()), sum=float(finite.sum()))
    return out


def walk_metaimage(root):
    files = {}
    for rel in SEARCH:
        base = os.path.join(root, rel)
        if not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base)):
            if name.endswith((".mha", ".mhd")):
                path = os.path.join(base, name)
                try:
                    files[os.path.relpath(path, root)] = describe_metaimage(path)
                except Exception as e:
                    files[os.path.relpath(path, root)] = {"error": "%s: %s" % (type(e).__name__, e)}
    return files


def main():
    root = sys.argv[1]
    generated = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(root)), "generated")
    doc = {"nibabel": nib.__version__, "files": walk(root), "generated": generate(generated),
           "metaimage": walk_metaimage(root)}
    json.dump(doc, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
