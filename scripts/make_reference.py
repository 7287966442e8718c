#!/usr/bin/python3
"""Expected values for MedZoo's volume readers, computed by an independent reader.

Run with Debian's /usr/bin/python3 (python3-nibabel, python3-numpy). Walks the unpacked Debian
test-data tree given as argv[1] and prints one JSON document:
  {"nibabel": "<version>", "files": {"<path relative to root>": {...} | {"error": "..."}}}
Each entry holds what `medzoo inspect --json` must report for the same file: format, shape,
spacing (zooms), affine (4x4, nibabel's best affine), min/max/mean/sum over finite scaled voxels,
nanCount. Files nibabel cannot read are recorded with "error" so tests know to skip them.
"""
import json
import os
import sys

import numpy as np
import nibabel as nib

root = sys.argv[1]
SUFFIXES = (".nii", ".nii.gz", ".hdr", ".hdr.gz")
SEARCH = [
    "usr/lib/python3/dist-packages/nibabel/tests/data",
    "usr/lib/python3/dist-packages/nibabel/nicom/tests/data",
    "usr/share/mricron/templates",
    "usr/share/doc/insighttoolkit5-examples/examples/Data",
]


def describe(path):
    img = nib.load(path)
    if isinstance(img, nib.cifti2.Cifti2Image):
        # CIFTI-2 is a NIfTI-2 file; compare the NIfTI view of it.
        img = nib.Nifti2Image.from_filename(path)
    cls = type(img).__name__
    fmt = {
        "Nifti1Image": "nifti1",
        "Nifti1Pair": "nifti1",
        "Nifti2Image": "nifti2",
        "Nifti2Pair": "nifti2",
        "Spm2AnalyzeImage": "analyze",
        "Spm99AnalyzeImage": "analyze",
        "AnalyzeImage": "analyze",
    }.get(cls)
    if fmt is None:
        return {"error": "not a NIfTI/Analyze image for nibabel: " + cls}
    hdr = img.header
    data = np.asanyarray(img.dataobj).astype(np.float64)
    finite = data[np.isfinite(data)]
    out = {
        "class": cls,
        "format": fmt,
        "datatype": str(hdr.get_data_dtype().name),
        "shape": [int(s) for s in img.shape],
        "spacing": [float(z) for z in hdr.get_zooms()],
        "affine": [[float(v) for v in row] for row in img.affine],
        "nanCount": int(np.isnan(data).sum()),
        "count": int(data.size),
    }
    if finite.size:
        out.update(min=float(finite.min()), max=float(finite.max()),
                   mean=float(finite.mean()), sum=float(finite.sum()))
    return out


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
            except Exception as e:  # recorded, not fatal: the test skips what nibabel cannot read
                files[key] = {"error": "%s: %s" % (type(e).__name__, e)}
json.dump({"nibabel": nib.__version__, "files": files}, sys.stdout, indent=1, sort_keys=True)
