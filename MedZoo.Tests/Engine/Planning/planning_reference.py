"""Independent reference for MedZoo's planning (Debian's nibabel, numpy and scipy).

orient            stdin: JSON list of {"affine": 16 row-major, "shape": [x, y, z]}
                  stdout: JSON list of {"codes", "ornt", "canonical": 16 row-major, "canonicalShape"}
resample IN OUT D H W D2 H2 W2 ORDER
                  IN: float32 C-order (D, H, W); OUT: float32 on the (D2, H2, W2) grid, sampled by
                  scipy.ndimage.map_coordinates (mode "mirror") at x = (o + 0.5) * n / m - 0.5 clamped
                  to [0, n - 1], the field-of-view-preserving grid MedZoo uses.
dataset FOLDER KIND
                  writes an nnU-Net raw dataset (channels CT and T2) whose subjects differ in spacing and
                  axis order, and prints the plan computed by hand: nnU-Net's target spacing rule,
                  foreground statistics, class volumes and the median shape at the target spacing.
"""
import json
import sys

import numpy as np


def orient():
    import nibabel as nib
    out = []
    for item in json.load(sys.stdin):
        aff = np.array(item["affine"], dtype=float).reshape(4, 4)
        img = nib.Nifti1Image(np.zeros(item["shape"], dtype=np.float32), aff)
        can = nib.as_closest_canonical(img)
        out.append({
            "codes": "".join(nib.aff2axcodes(aff)),
            "ornt": nib.orientations.io_orientation(aff).tolist(),
            "canonical": can.affine.reshape(-1).tolist(),
            "canonicalShape": list(can.shape),
        })
    json.dump(out, sys.stdout)


def resample(src, dst, d, h, w, d2, h2, w2, order):
    from scipy import ndimage
    a = np.fromfile(src, dtype=np.float32).reshape(d, h, w).astype(np.float64)
    axes = []
    for n, m in ((d, d2), (h, h2), (w, w2)):
        axes.append(np.clip((np.arange(m) + 0.5) * n / m - 0.5, 0, n - 1))
    grid = np.meshgrid(*axes, indexing="ij")
    out = ndimage.map_coordinates(a, grid, order=order, mode="mirror", prefilter=True)
    out.astype(np.float32).tofile(dst)


def percentile(values, p):
    return float(np.percentile(values, p))


def dataset(folder, kind):
    import os
    import nibabel as nib
    rng = np.random.default_rng(7)
    # (spacing along the file's axes, axis permutation into the file, flips) per subject
    if kind == "mixed":
        subjects = [
            ((1.0, 1.0, 1.0), (0, 1, 2), (False, False, False)),   # RAS
            ((2.0, 2.0, 3.0), (0, 2, 1), (True, False, False)),    # LSA
            ((1.5, 1.0, 1.2), (0, 1, 2), (True, True, False)),     # LPS
            ((1.2, 0.9, 1.1), (2, 0, 1), (False, False, True)),    # S A I? (permuted)
            ((1.0, 1.3, 2.0), (1, 0, 2), (False, True, False)),
        ]
    else:  # anisotropic: thick slices along S in most subjects
        subjects = [
            ((0.8, 0.8, 5.0), (0, 1, 2), (False, False, False)),
            ((0.9, 0.9, 4.0), (0, 2, 1), (True, False, False)),
            ((0.7, 0.7, 6.0), (0, 1, 2), (False, True, False)),
            ((0.8, 0.8, 3.0), (1, 0, 2), (False, False, True)),
            ((0.75, 0.75, 5.5), (0, 1, 2), (False, False, False)),
        ]
    os.makedirs(os.path.join(folder, "imagesTr"), exist_ok=True)
    os.makedirs(os.path.join(folder, "labelsTr"), exist_ok=True)
    expected = {"subjects": []}
    pooled = {"CT": [], "T2": []}
    can_spacings, can_shapes = [], []
    for s, (world_spacing, perm, flips) in enumerate(subjects):
        # A world-aligned (RAS) grid with a blob, then stored with the file axes permuted and flipped.
        shape_ras = [int(rng.integers(9, 15)) for _ in range(3)]
        zz, yy, xx = np.meshgrid(*[np.arange(n) for n in shape_ras], indexing="ij")
        c = [n / 2 for n in shape_ras]
        r = ((zz - c[0]) / (shape_ras[0] / 3)) ** 2 + ((yy - c[1]) / (shape_ras[1] / 3)) ** 2 + ((xx - c[2]) / (shape_ras[2] / 3)) ** 2
        label_ras = np.where(r < 0.4, 2, np.where(r < 1, 1, 0)).astype(np.uint8)
        ct_ras = (rng.normal(40, 15, shape_ras) + 60 * label_ras).astype(np.float32)
        t2_ras = (rng.normal(300, 50, shape_ras) + 100 * label_ras).astype(np.float32)
        aff_ras = np.diag(list(world_spacing) + [1.0])
        aff_ras[:3, 3] = rng.uniform(-50, 50, 3)
        ornt = np.array([[perm.index(a), -1 if flips[perm.index(a)] else 1] for a in range(3)])
        # File axis f shows RAS axis perm[f], reversed when flips[f].
        ornt_file = np.array([[perm[f], -1 if flips[f] else 1] for f in range(3)])
        def to_file(a):
            t = np.transpose(a, perm)
            for f in range(3):
                if flips[f]:
                    t = np.flip(t, f)
            return np.ascontiguousarray(t)
        aff_file = aff_ras.copy()
        for f in range(3):
            col = aff_ras[:3, perm[f]]
            aff_file[:3, f] = -col if flips[f] else col
        for f in range(3):
            if flips[f]:
                aff_file[:3, 3] += aff_ras[:3, perm[f]] * (shape_ras[perm[f]] - 1)
        case = f"case_{s:03d}"
        ct, t2, lab = to_file(ct_ras), to_file(t2_ras), to_file(label_ras)
        for name, data in ((f"imagesTr/{case}_0000.nii.gz", ct), (f"imagesTr/{case}_0001.nii.gz", t2), (f"labelsTr/{case}.nii.gz", lab)):
            img = nib.Nifti1Image(data, aff_file)
            img.set_sform(aff_file, code=1)
            img.set_qform(aff_file, code=1)
            nib.save(img, os.path.join(folder, name))
        img = nib.load(os.path.join(folder, f"labelsTr/{case}.nii.gz"))
        can = nib.as_closest_canonical(img)
        zooms = [float(z) for z in can.header.get_zooms()[:3]]
        can_spacings.append(zooms)
        can_shapes.append(list(can.shape))
        fg = lab > 0
        stats = {}
        for name, data in (("CT", ct), ("T2", t2)):
            v = data[fg].astype(np.float64)
            pooled[name].append(v)
            stats[name] = {"mean": float(v.mean()), "sd": float(v.std()), "p005": percentile(v, 0.5), "p995": percentile(v, 99.5)}
        voxel = float(np.prod(img.header.get_zooms()[:3]))
        expected["subjects"].append({
            "id": case, "codes": "".join(nib.aff2axcodes(img.affine)), "canonical": can.affine.reshape(-1).tolist(),
            "canonicalSpacing": zooms, "canonicalShape": list(can.shape), "stats": stats,
            "classVolumes": [float((lab == k).sum()) * voxel for k in range(3)],
        })
    spacings = np.array(can_spacings)
    target = np.median(spacings, axis=0)
    worst = int(np.argmax(target))
    others = [a for a in range(3) if a != worst]
    if target[worst] > 3 * min(target[a] for a in others):
        target[worst] = max(np.percentile(spacings[:, worst], 10), max(target[a] for a in others))
    expected["targetSpacing"] = target.tolist()
    at_target = [[int(np.floor(sh[a] * sp[a] / target[a] + 0.5)) for a in range(3)] for sh, sp in zip(can_shapes, can_spacings)]
    median = [int(np.floor(np.median([s[a] for s in at_target]) + 0.5)) for a in range(3)]
    expected["medianShapeDHW"] = median[::-1]
    expected["datasetVoxels"] = float(sum(np.prod(s) for s in at_target))
    expected["pooled"] = {}
    for name in ("CT", "T2"):
        v = np.concatenate(pooled[name])
        expected["pooled"][name] = {"mean": float(v.mean()), "sd": float(v.std()), "p005": percentile(v, 0.5), "p995": percentile(v, 99.5)}
    with open(os.path.join(folder, "dataset.json"), "w") as f:
        json.dump({"channel_names": {"0": "CT", "1": "T2"}, "labels": {"background": 0, "outer": 1, "inner": 2},
                   "numTraining": len(subjects), "file_ending": ".nii.gz"}, f)
    json.dump(expected, sys.stdout)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "orient":
        orient()
    elif cmd == "resample":
        a = sys.argv[2:]
        resample(a[0], a[1], *[int(x) for x in a[2:9]])
    elif cmd == "dataset":
        dataset(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown command {cmd}")
