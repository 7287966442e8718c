// The review's 3D view, on the slice viewer's crosshair (js/review.js). NiiVue (copied from npm by the
// build into /lib/niivue/, see MedZoo.Web/NiiVue.targets) is imported only when the panel opens. Each
// label volume the slice viewer shows (every prediction, then the ground truth) is volume-rendered on
// its own canvas in the slice viewer's class colours, background transparent: a head's skin would
// hide the labels inside it, so the image is not drawn. The labels are the class indices the slice
// viewer already fetched; their geometry (the affine) is read from the review's prediction.nii.gz
// download, the input's exact grid. Crosshair: a 2D move sets NiiVue's (voxel → mm through the
// affine → NiiVue's fraction); a click on a rendered surface moves the slices (mm → voxel through
// the inverse affine). Closing releases every WebGL context.
import * as review from './review.js';

const views = new Map();

/** Builds the panels inside root; returns null when shown, else the reason it could not be. */
export async function open(root, config) {
    const view = { root, config, layers: [], stop: () => {}, closed: false, voxel: null, live: false };
    views.set(config.id, view);
    root.dataset.view = config.id;
    root.dataset.ready = 'false';
    try {
        const [{ Niivue, NVImage }, data] = await Promise.all([import(config.niivueUrl), review.volumes(config.viewerId)]);
        const header = await NVImage.loadFromUrl({ url: config.headerUrl, name: 'prediction.nii.gz' });
        if (view.closed) return null;
        const dims = data.dims, hd = header.hdr.dims;
        if (hd[1] !== dims[0] || hd[2] !== dims[1] || hd[3] !== dims[2])
            throw new Error(`the prediction's file is ${hd[1]}×${hd[2]}×${hd[3]} voxels, the viewer's volumes ${dims.join('×')}`);
        view.affine = header.hdr.affine.map(row => Array.from(row));
        view.inverse = invert(view.affine);
        view.classes = data.classes;
        view.visible = data.classes.map(() => true);
        const lut = labelLut(data.classes);
        const layers = data.preds.map((labels, n) => ({ labels, title: data.titles[n] }));
        if (data.truth) layers.push({ labels: data.truth, title: 'Ground truth' });
        for (const [n, layer] of layers.entries()) {
            const box = document.createElement('div');
            box.className = 'mz-rv3d-panel';
            const cap = document.createElement('div');
            cap.className = 'mz-rv-caption';
            cap.textContent = `${layer.title} (3D)`;
            const wrap = document.createElement('div');
            wrap.className = 'mz-rv3d-canvas';
            const canvas = document.createElement('canvas');
            canvas.id = `rv3d-canvas-${n}`;
            wrap.append(canvas);
            box.append(cap, wrap);
            root.append(box);
            const nv = new Niivue({
                backColor: [0, 0, 0, 1], show3Dcrosshair: true, crosshairColor: [1, 1, 0, 1], isOrientCube: true,
                dragAndDropEnabled: false, logLevel: 'error', loadingText: '',
            });
            const entry = { nv, canvas, title: layer.title, volume: null, labels: layer.labels };
            view.layers.push(entry);
            await nv.attachToCanvas(canvas);
            const volume = await NVImage.loadFromUrl({ url: nifti(dims, view.affine, layer.labels), name: `labels-${n}.nii` });
            volume.setColormapLabel(lut);
            entry.volume = volume;
            nv.addVolume(volume);
            nv.setSliceType(nv.sliceTypeRender);
            nv.onLocationChange = location => fromNiivue(view, location);
            pickOnClick(nv, canvas);
            if (view.closed) return null;
        }
        view.stop = review.watch(config.viewerId, (voxel, visible) => {
            showClasses(view, visible);
            toNiivue(view, voxel);
        });
        view.live = true;
        root.dataset.ready = 'true';
        return null;
    } catch (e) {
        if (view.closed) return null; // closed while it was opening: nothing to report
        root.dataset.ready = 'error';
        release(view);
        return String(e?.message ?? e);
    }
}

/** Releases NiiVue's listeners and every WebGL context of the panel, and empties it. */
export function close(id) {
    const view = views.get(id);
    if (view) release(view);
}

function release(view) {
    if (views.get(view.config.id) === view) views.delete(view.config.id); // not a panel opened again since
    view.closed = true;
    view.live = false;
    view.stop();
    for (const { nv } of view.layers) {
        nv.onLocationChange = () => {};
        nv.cleanup();
        nv.gl?.getExtension('WEBGL_lose_context')?.loseContext();
    }
    view.layers = [];
    view.root.replaceChildren();
}

// Test and diagnostics hook, like review.js's snapshot: per canvas NiiVue's crosshair (fraction and mm),
// and its pixels read back from a fresh draw, counted as background or by the class colour they show.
export function snapshot(id) {
    const view = views.get(id);
    if (!view) return null;
    return {
        voxel: view.voxel,
        layers: view.layers.map(({ nv, title }) => {
            const pos = nv.scene.crosshairPos;
            nv.drawScene(); // read in the same task as the draw: the drawing buffer is not preserved
            const gl = nv.gl, w = gl.drawingBufferWidth, h = gl.drawingBufferHeight, px = new Uint8Array(w * h * 4);
            gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
            return { title, crosshairPos: Array.from(pos), crosshairMm: Array.from(nv.frac2mm(pos, 0, true)).slice(0, 3), width: w, height: h, ...countColours(px, view.classes) };
        }),
    };
}

/**
 * Pixels by what they show: background (black), or the class whose colour they are a shade of (lit
 * surfaces scale a colour; cosine of the RGB directions above 0.99), else other (crosshair, cube).
 */
function countColours(px, classes) {
    const dirs = classes.map(c => { const n = Math.hypot(...c.rgb) || 1; return c.rgb.map(x => x / n); });
    const counts = classes.map(() => 0);
    let background = 0, other = 0;
    for (let p = 0; p < px.length; p += 4) {
        const r = px[p], g = px[p + 1], b = px[p + 2], n = Math.hypot(r, g, b);
        if (n < 24) { background++; continue; }
        let best = -1, bestCos = 0.99;
        for (let k = 1; k < dirs.length; k++) {
            const cos = (r * dirs[k][0] + g * dirs[k][1] + b * dirs[k][2]) / n;
            if (cos > bestCos) { bestCos = cos; best = k; }
        }
        if (best > 0) counts[best]++; else other++;
    }
    return { background, other, counts };
}

/**
 * A click (not a drag, which rotates) on a rendered surface puts the crosshair there. NiiVue 0.69 picks a
 * point of its 3D render only for a touch (resetBriCon: a depth-picking draw, then onLocationChange); a
 * mouse click asks it the same way, at the position its own mousedown handler recorded.
 */
function pickOnClick(nv, canvas) {
    let down = null;
    canvas.addEventListener('mousedown', e => { down = [e.clientX, e.clientY]; });
    canvas.addEventListener('click', e => {
        if (down && Math.hypot(e.clientX - down[0], e.clientY - down[1]) <= 4) nv.resetBriCon(e);
        down = null;
    });
}

/**
 * The slice viewer's class toggles: a hidden class's voxels become background, showing the classes inside
 * it. (Not a transparent colour: NiiVue blends neighbouring voxels' colours, and a hidden class would tint
 * the edges of the others.)
 */
function showClasses(view, visible) {
    if (visible.length === view.visible.length && visible.every((v, k) => v === view.visible[k])) return;
    view.visible = visible;
    view.root.dataset.visible = visible.map(Number).join('');
    for (const { nv, volume, labels } of view.layers) {
        const img = volume.img;
        for (let p = 0; p < labels.length; p++) img[p] = visible[labels[p]] ? labels[p] : 0;
        nv.updateGLVolume();
    }
}

function toNiivue(view, voxel) {
    view.voxel = voxel;
    view.root.dataset.voxel = voxel.join(',');
    const mm = apply(view.affine, voxel);
    for (const { nv } of view.layers) {
        nv.scene.crosshairPos = nv.mm2frac(mm, 0, true); // world mm, as NiiVue's own picking and onLocationChange
        nv.drawScene();
    }
}

function fromNiivue(view, location) {
    if (!view.live || !location?.mm) return;
    const voxel = apply(view.inverse, location.mm).map(Math.round);
    review.setCross(view.config.viewerId, voxel);
}

/** NiiVue's label colour table: class k in the slice viewer's colour, the background (0) transparent. */
function labelLut(classes) {
    return {
        R: classes.map(c => c.rgb[0]), G: classes.map(c => c.rgb[1]), B: classes.map(c => c.rgb[2]),
        A: classes.map((_, k) => (k === 0 ? 0 : 255)), I: classes.map((_, k) => k),
        labels: classes.map(c => c.name),
    };
}

/** x' = A x for a 4×4 affine (rows) and a 3-vector. */
function apply(a, v) {
    return [0, 1, 2].map(r => a[r][0] * v[0] + a[r][1] * v[1] + a[r][2] * v[2] + a[r][3]);
}

/** Inverse of an affine [M t; 0 1]: [M⁻¹ −M⁻¹t; 0 1]. */
function invert(a) {
    const [[a0, a1, a2], [b0, b1, b2], [c0, c1, c2]] = a;
    const det = a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0) + a2 * (b0 * c1 - b1 * c0);
    if (!det) throw new Error('the volume\'s affine is singular');
    const m = [
        [(b1 * c2 - b2 * c1) / det, (a2 * c1 - a1 * c2) / det, (a1 * b2 - a2 * b1) / det],
        [(b2 * c0 - b0 * c2) / det, (a0 * c2 - a2 * c0) / det, (a2 * b0 - a0 * b2) / det],
        [(b0 * c1 - b1 * c0) / det, (a1 * c0 - a0 * c1) / det, (a0 * b1 - a1 * b0) / det],
    ];
    const t = [a[0][3], a[1][3], a[2][3]];
    return m.map(row => [...row, -(row[0] * t[0] + row[1] * t[1] + row[2] * t[2])]);
}

/** A NIfTI-1 file (uint8 labels, sform = the affine) around the viewer's class indices, for NiiVue. */
function nifti(dims, affine, labels) {
    const buffer = new ArrayBuffer(352 + labels.byteLength), v = new DataView(buffer);
    v.setInt32(0, 348, true);
    [3, dims[0], dims[1], dims[2], 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
    v.setInt16(70, 2, true); // DT_UINT8
    v.setInt16(72, 8, true);
    const spacing = [0, 1, 2].map(c => Math.hypot(affine[0][c], affine[1][c], affine[2][c]));
    [1, ...spacing, 1, 1, 1, 1].forEach((d, i) => v.setFloat32(76 + 4 * i, d, true));
    v.setFloat32(108, 352, true); // vox_offset
    v.setFloat32(112, 1, true); // scl_slope
    v.setInt16(254, 2, true); // sform_code: aligned
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat32(280 + 16 * r + 4 * c, affine[r][c], true);
    new Uint8Array(buffer, 344, 4).set([0x6e, 0x2b, 0x31, 0]); // "n+1\0"
    new Uint8Array(buffer, 352).set(labels);
    return buffer;
}
