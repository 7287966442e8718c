"""Independent reference for MedZoo's metrics, computed with scipy.ndimage (Debian's python3-scipy).

Run by SegmentationMetricsReferenceTests through /usr/bin/python3. Definitions follow MONAI
(monai.metrics.utils.get_mask_edges / get_surface_distance, compute_hausdorff_distance with
percentile=95 and directed=False, symmetric compute_average_surface_distance):
  surface  = mask XOR binary_erosion(mask, 6-connected structure, border_value=0)
  A->B     = distance_transform_edt(~surface(B), sampling=spacing)[surface(A)]
  HD95     = max(percentile(A->B, 95), percentile(B->A, 95))   (numpy's linear percentile)
  ASSD     = (sum(A->B) + sum(B->A)) / (len(A->B) + len(B->A))

usage:
  surface_reference.py edt FEATURES.u8 D H W SD SH SW OUT.f64
  surface_reference.py metrics PRED.u8 GT.u8 D H W SD SH SW CLASSES     (JSON on stdout)
Arrays are raw C-order (D, H, W); spacing is in mm along D, H, W.
"""
import json
import sys

import numpy as np
from scipy import ndimage


def surface(mask):
    structure = ndimage.generate_binary_structure(3, 1)
    return mask & ~ndimage.binary_erosion(mask, structure=structure, border_value=0)


def read(path, shape):
    return np.fromfile(path, dtype=np.uint8).reshape(shape)


def main(argv):
    mode = argv[1]
    if mode == "edt":
        shape = tuple(int(v) for v in argv[3:6])
        spacing = tuple(float(v) for v in argv[6:9])
        features = read(argv[2], shape).astype(bool)
        distances = ndimage.distance_transform_edt(~features, sampling=spacing)
        distances.astype("<f8").tofile(argv[9])
        return 0
    if mode == "metrics":
        shape = tuple(int(v) for v in argv[4:7])
        spacing = tuple(float(v) for v in argv[7:10])
        classes = int(argv[10])
        prediction = read(argv[2], shape)
        truth = read(argv[3], shape)
        result = []
        for c in range(1, classes):
            p = prediction == c
            g = truth == c
            entry = {"class": c, "dice": None, "hd95": None, "assd": None}
            if p.any() or g.any():
                entry["dice"] = float(2.0 * np.count_nonzero(p & g) / (np.count_nonzero(p) + np.count_nonzero(g)))
            if p.any() and g.any():
                sp, sg = surface(p), surface(g)
                p_to_g = ndimage.distance_transform_edt(~sg, sampling=spacing)[sp]
                g_to_p = ndimage.distance_transform_edt(~sp, sampling=spacing)[sg]
                entry["hd95"] = float(max(np.percentile(p_to_g, 95), np.percentile(g_to_p, 95)))
                entry["assd"] = float((p_to_g.sum() + g_to_p.sum()) / (p_to_g.size + g_to_p.size))
            result.append(entry)
        json.dump({"classes": result}, sys.stdout)
        return 0
    print("unknown mode " + mode, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
