// The review viewer: three linked planes of a volume drawn entirely in the browser. The volumes
// (image levels as Uint16Array, class indices as Uint8Array, file voxel order i fastest) are
// fetched once; every slice, overlay, error map and window/level change is drawn from them with
// putImageData, so scrolling never waits for the server. Plane mappings (which voxel axis is
// fixed, shown across, shown down, flipped or not, and the edge labels) come from the server's
// ViewOrientation, derived from the volume's affine. Probability and entropy maps (one byte per
// voxel, see ProbabilityMaps.cs) are fetched when first chosen and drawn with the server's colour scale.

const viewers = new Map();
const ERR = { tp: [40, 200, 80], fp: [255, 0, 200], fn: [0, 190, 255] };

export async function open(root, config) {
    const st = {
        root, config, dims: config.dims, views: config.views,
        stride: [1, config.dims[0], config.dims[0] * config.dims[1]],
        cross: config.dims.map(n => Math.floor(n / 2)),
        mode: 'side', opacity: 0.5, visible: config.classes.map(() => true), errorClass: -1, modality: 0,
        window: null, images: [], preds: [], truth: null, lut: new Uint8Array(65536), planes: [],
        map: { kind: 'none', cls: -1 }, mapData: config.maps.map(() => ({ probability: [], entropy: null })),
        watchers: new Set(),
    };
    let loaded;
    st.loaded = new Promise((resolve, reject) => { loaded = { resolve, reject }; });
    st.loaded.catch(() => {}); // a failed load is reported by open itself; the 3D view hears it when it asks
    viewers.set(config.id, st);
    root.dataset.ready = 'false';
    try {
        st.images = await Promise.all(config.imageUrls.map(u => get(u, Uint16Array)));
        st.preds = await Promise.all(config.predictionUrls.map(u => get(u, Uint8Array)));
        st.truth = config.truthUrl ? await get(config.truthUrl, Uint8Array) : null;
    } catch (e) {
        loaded.reject(e);
        throw e;
    }
    loaded.resolve({ dims: st.dims, preds: st.preds, truth: st.truth, titles: config.predictionTitles, classes: config.classes });
    const r = config.ranges[0];
    st.window = { low: r[2], high: r[3] };
    buildLut(st);
    build(st);
    drawAll(st);
    root.dataset.ready = 'true';
}

async function get(url, Type) {
    const r = await fetch(url, { credentials: 'same-origin' });
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return new Type(await r.arrayBuffer());
}

/** Fetches the chosen map of every shown review that kept probabilities (once per map). */
async function loadMap(st, map) {
    await Promise.all(st.config.maps.map(async (urls, layer) => {
        if (!urls) return;
        const data = st.mapData[layer];
        if (map.kind === 'entropy' && !data.entropy) data.entropy = await get(urls.entropyUrl, Uint8Array);
        if (map.kind === 'probability' && !data.probability[map.cls]) data.probability[map.cls] = await get(urls.probabilityUrls[map.cls], Uint8Array);
    }));
}

export async function update(id, state) {
    const st = viewers.get(id);
    if (!st) return;
    if (state.map) await loadMap(st, state.map);
    const rebuild = (state.mode !== undefined && state.mode !== st.mode) || state.map !== undefined;
    Object.assign(st, state);
    if (state.views) st.views = state.views;
    if (state.window || state.modality !== undefined) buildLut(st);
    if (rebuild || state.views) build(st);
    drawAll(st);
    st.root.dataset.map = st.map.kind === 'probability' ? `probability-${st.map.cls}` : st.map.kind;
}

export function dispose(id) { viewers.delete(id); }

// For the 3D view (js/review3d.js), on the same crosshair: the volumes once fetched, the crosshair
// voxel (i, j, k in file order) as it moves, and moving it from outside.
export function volumes(id) {
    const st = viewers.get(id);
    return st ? st.loaded : Promise.reject(new Error('the slice viewer is not open'));
}

/**
 * Calls listener(voxel, visible) with the crosshair voxel and the per-class visibility now and whenever
 * the viewer redraws (the crosshair moved, a class was toggled); returns the function that stops it.
 */
export function watch(id, listener) {
    const st = viewers.get(id);
    if (!st) return () => {};
    st.watchers.add(listener);
    listener(st.cross.slice(), st.visible.slice());
    return () => st.watchers.delete(listener);
}

export function setCross(id, voxel) {
    const st = viewers.get(id);
    if (!st || !st.planes.length) return;
    const next = voxel.map((v, a) => Math.max(0, Math.min(st.dims[a] - 1, Math.round(v))));
    if (next.every((v, a) => v === st.cross[a])) return;
    st.cross = next;
    drawAll(st);
}

// Test and diagnostics hook: the state of a viewer.
export function snapshot(id) {
    const st = viewers.get(id);
    return st ? { cross: st.cross, slices: st.planes.map(p => slice(st, p.view)), drawn: st.planes.map(p => p.drawn) } : null;
}

function buildLut(st) {
    const r = st.config.ranges[st.modality] || st.config.ranges[0];
    const [min, max] = r;
    const { low, high } = st.window;
    const span = high > low ? high - low : 1;
    for (let l = 0; l < 65536; l++) {
        const v = min + l * (max - min) / 65535;
        st.lut[l] = Math.max(0, Math.min(255, Math.round((v - low) / span * 255)));
    }
}

function panelsOf(st) {
    const c = st.config, p = [];
    if (st.mode === 'side') {
        p.push({ kind: 'image', title: 'Image' });
        c.predictionTitles.forEach((t, i) => p.push({ kind: 'labels', layer: i, title: t }));
        if (st.truth) p.push({ kind: 'labels', layer: 'truth', title: 'Ground truth' });
    } else {
        c.predictionTitles.forEach((t, i) => p.push({ kind: 'overlay', layer: i, title: `${t} over image` + (st.truth ? ' (truth outlined)' : '') }));
    }
    if (st.truth) c.predictionTitles.forEach((t, i) => p.push({ kind: 'errors', layer: i, title: `Errors: ${t}` }));
    if (st.map.kind !== 'none') {
        const name = st.map.kind === 'entropy' ? 'Entropy' : `P(${c.classes[st.map.cls].name})`;
        c.predictionTitles.forEach((t, i) => { if (c.maps[i]) p.push({ kind: 'map', layer: i, title: `${name}: ${t}` }); });
    }
    return p;
}

const slice = (st, v) => st.cross[v.fixedAxis];
const cols = (st, v) => st.dims[v.columnAxis];
const rows = (st, v) => st.dims[v.rowAxis];

/** The filled part of a slice slider's track, as MudSlider draws it: from the start to the thumb. */
function fill(e) {
    const max = Number(e.slider.max);
    e.filled.style.width = `${max > 0 ? 100 * Number(e.slider.value) / max : 0}%`;
}

function build(st) {
    const root = st.root;
    root.replaceChildren();
    st.planes = [];
    const panels = panelsOf(st);
    st.views.forEach((v, pi) => {
        const name = v.plane.toLowerCase();
        const plane = document.createElement('div');
        plane.className = 'mz-rv-plane';
        plane.dataset.plane = name;
        plane.tabIndex = 0;
        const head = document.createElement('div');
        head.className = 'mz-rv-head';
        const label = document.createElement('span');
        const slider = document.createElement('input');
        slider.type = 'range'; slider.min = 0; slider.max = st.dims[v.fixedAxis] - 1; slider.id = `rv-slider-${name}`;
        slider.className = 'mud-slider-input mz-rv-slider';
        slider.addEventListener('input', () => { fill(st.planes[pi]); setSlice(st, pi, Number(slider.value)); });
        // MudSlider's markup and classes, so the slice slider looks like the viewer's other (MudBlazor) sliders.
        const mud = document.createElement('div');
        mud.className = 'mud-slider mud-slider-small mud-slider-primary mz-rv-slider-box';
        const track = document.createElement('div');
        track.className = 'mud-slider-container';
        const inner = document.createElement('div');
        inner.className = 'mud-slider-inner-container';
        const filled = document.createElement('div');
        filled.className = 'mud-slider-filled';
        inner.append(filled);
        track.append(inner, slider);
        mud.append(track);
        head.append(label, mud);
        const row = document.createElement('div');
        row.className = 'mz-rv-row';
        const entry = { view: v, el: plane, label, slider, filled, canvases: [], lines: [], drawn: 0, idx: null };
        const aspect = (cols(st, v) * st.config.spacing[v.columnAxis]) / (rows(st, v) * st.config.spacing[v.rowAxis]);
        panels.forEach((p, k) => {
            const box = document.createElement('div');
            box.className = 'mz-rv-panel';
            const cap = document.createElement('div');
            cap.className = 'mz-rv-caption';
            cap.textContent = p.title;
            const wrap = document.createElement('div');
            wrap.className = 'mz-rv-canvas';
            wrap.style.aspectRatio = String(aspect);
            const canvas = document.createElement('canvas');
            canvas.width = cols(st, v); canvas.height = rows(st, v);
            canvas.id = `rv-${name}-${p.kind}${p.layer === undefined ? '' : '-' + p.layer}`;
            canvas.dataset.kind = p.kind;
            const h = document.createElement('div'); h.className = 'mz-rv-hline';
            const vl = document.createElement('div'); vl.className = 'mz-rv-vline';
            wrap.append(canvas, h, vl);
            for (const [cls, text] of [['l', v.left], ['r', v.right], ['t', v.top], ['b', v.bottom]]) {
                const o = document.createElement('span');
                o.className = `mz-rv-orient mz-rv-${cls}`;
                o.textContent = text;
                wrap.append(o);
            }
            const pick = e => {
                const rect = canvas.getBoundingClientRect();
                const c = Math.floor((e.clientX - rect.left) / rect.width * canvas.width);
                const r = Math.floor((e.clientY - rect.top) / rect.height * canvas.height);
                moveCross(st, pi, Math.max(0, Math.min(canvas.width - 1, c)), Math.max(0, Math.min(canvas.height - 1, r)));
            };
            canvas.addEventListener('mousedown', e => { pick(e); plane.focus(); });
            canvas.addEventListener('mousemove', e => { if (e.buttons & 1) pick(e); });
            box.append(cap, wrap);
            row.append(box);
            entry.canvases.push({ canvas, ctx: canvas.getContext('2d'), panel: p });
            entry.lines.push([h, vl]);
        });
        plane.addEventListener('wheel', e => {
            e.preventDefault();
            setSlice(st, pi, slice(st, v) + (e.deltaY > 0 ? -1 : 1));
        }, { passive: false });
        plane.addEventListener('keydown', e => {
            const step = { ArrowUp: 1, ArrowRight: 1, PageUp: 5, ArrowDown: -1, ArrowLeft: -1, PageDown: -5 }[e.key];
            if (step !== undefined) { e.preventDefault(); setSlice(st, pi, slice(st, v) + step); }
            else if (e.key === 'Home') { e.preventDefault(); setSlice(st, pi, 0); }
            else if (e.key === 'End') { e.preventDefault(); setSlice(st, pi, st.dims[v.fixedAxis] - 1); }
        });
        plane.append(head, row);
        root.append(plane);
        st.planes.push(entry);
    });
    const status = document.createElement('div');
    status.className = 'mz-rv-status';
    status.id = `rv-status-${st.config.id}`;
    root.append(status);
    st.status = status;
}

function setSlice(st, pi, s) {
    const v = st.planes[pi].view;
    s = Math.max(0, Math.min(st.dims[v.fixedAxis] - 1, s));
    if (s === st.cross[v.fixedAxis]) return;
    st.cross[v.fixedAxis] = s;
    drawPlane(st, pi);
    st.planes.forEach((_, k) => { if (k !== pi) drawLines(st, k); });
    drawStatus(st);
}

function moveCross(st, pi, c, r) {
    const v = st.planes[pi].view;
    st.cross[v.columnAxis] = v.flipColumns ? cols(st, v) - 1 - c : c;
    st.cross[v.rowAxis] = v.flipRows ? rows(st, v) - 1 - r : r;
    drawAll(st);
}

function drawAll(st) {
    st.planes.forEach((_, k) => drawPlane(st, k));
    drawStatus(st);
}

function drawStatus(st) {
    const [i, j, k] = st.cross;
    const at = i + j * st.stride[1] + k * st.stride[2];
    const names = st.config.classes;
    const r = st.config.ranges[st.modality] || st.config.ranges[0];
    const value = r[0] + st.images[st.modality][at] * (r[1] - r[0]) / 65535;
    let text = `voxel (${i}, ${j}, ${k}) · value ${value.toPrecision(4)}`;
    st.preds.forEach((p, n) => { text += ` · ${st.config.predictionTitles[n]}: ${names[p[at]]?.name ?? p[at]}`; });
    if (st.truth) text += ` · truth: ${names[st.truth[at]]?.name ?? st.truth[at]}`;
    st.status.textContent = text;
    st.root.dataset.cross = `${i},${j},${k}`;
    for (const w of st.watchers) w(st.cross.slice(), st.visible.slice());
}

function drawLines(st, pi) {
    const e = st.planes[pi], v = e.view;
    const c = v.flipColumns ? cols(st, v) - 1 - st.cross[v.columnAxis] : st.cross[v.columnAxis];
    const r = v.flipRows ? rows(st, v) - 1 - st.cross[v.rowAxis] : st.cross[v.rowAxis];
    const x = (c + 0.5) / cols(st, v) * 100, y = (r + 0.5) / rows(st, v) * 100;
    for (const [h, vl] of e.lines) { h.style.top = `${y}%`; vl.style.left = `${x}%`; }
    e.el.dataset.crossColumn = c;
    e.el.dataset.crossRow = r;
}

function drawPlane(st, pi) {
    const e = st.planes[pi], v = e.view;
    const w = cols(st, v), h = rows(st, v), s = slice(st, v);
    const n = w * h;
    if (!e.idx || e.idx.length !== n) e.idx = new Int32Array(n);
    const idx = e.idx, sc = st.stride[v.columnAxis], sr = st.stride[v.rowAxis], base = s * st.stride[v.fixedAxis];
    for (let r = 0, p = 0; r < h; r++) {
        const rowBase = base + (v.flipRows ? h - 1 - r : r) * sr;
        for (let c = 0; c < w; c++, p++) idx[p] = rowBase + (v.flipColumns ? w - 1 - c : c) * sc;
    }
    const image = st.images[st.modality], lut = st.lut, pal = st.config.classes, vis = st.visible, a = st.opacity;
    for (const { canvas, ctx, panel } of e.canvases) {
        const frame = ctx.createImageData(w, h), px = frame.data;
        const labels = panel.layer === 'truth' ? st.truth : panel.layer === undefined ? null : st.preds[panel.layer];
        const map = panel.kind !== 'map' ? null : st.map.kind === 'entropy' ? st.mapData[panel.layer].entropy : st.mapData[panel.layer].probability[st.map.cls];
        const heat = st.config.mapLut;
        for (let p = 0; p < n; p++) {
            const at = idx[p], g = lut[image[at]], o = p * 4;
            let R = g, G = g, B = g;
            if (panel.kind === 'labels' || panel.kind === 'overlay') {
                const k = labels[at];
                if (k > 0 && vis[k]) { const col = pal[k].rgb; R = R * (1 - a) + col[0] * a; G = G * (1 - a) + col[1] * a; B = B * (1 - a) + col[2] * a; }
            } else if (panel.kind === 'map') {
                const m = map[at] * 3;
                R = R * (1 - a) + heat[m] * a; G = G * (1 - a) + heat[m + 1] * a; B = B * (1 - a) + heat[m + 2] * a;
            } else if (panel.kind === 'errors') {
                const pr = labels[at], t = st.truth[at], cls = st.errorClass;
                let col = null;
                if (cls < 0) col = pr === t ? (t > 0 && vis[t] ? ERR.tp : null) : pr > 0 ? (vis[pr] ? ERR.fp : null) : (vis[t] ? ERR.fn : null);
                else if (pr === cls && t === cls) col = ERR.tp;
                else if (pr === cls) col = ERR.fp;
                else if (t === cls) col = ERR.fn;
                if (col) { const b = col === ERR.tp ? a * 0.5 : Math.max(a, 0.6); R = R * (1 - b) + col[0] * b; G = G * (1 - b) + col[1] * b; B = B * (1 - b) + col[2] * b; }
            }
            px[o] = R; px[o + 1] = G; px[o + 2] = B; px[o + 3] = 255;
        }
        if (panel.kind === 'overlay' && st.truth) {
            // Ground truth as an outline: pixels whose visible class differs from a neighbour's.
            const t = st.truth;
            for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
                const p = r * w + c, k = t[idx[p]];
                if (k === 0 || !vis[k]) continue;
                if ((c > 0 && t[idx[p - 1]] !== k) || (c < w - 1 && t[idx[p + 1]] !== k) || (r > 0 && t[idx[p - w]] !== k) || (r < h - 1 && t[idx[p + w]] !== k)) {
                    const col = pal[k].rgb, o = p * 4;
                    px[o] = 255 - (255 - col[0]) / 2; px[o + 1] = 255 - (255 - col[1]) / 2; px[o + 2] = 255 - (255 - col[2]) / 2;
                }
            }
        }
        ctx.putImageData(frame, 0, 0);
        canvas.dataset.drawn = String((Number(canvas.dataset.drawn) || 0) + 1);
    }
    e.drawn++;
    e.el.dataset.slice = s;
    e.el.dataset.drawn = e.drawn;
    e.slider.value = s;
    fill(e);
    e.label.textContent = `${v.plane} · slice ${s + 1}/${st.dims[v.fixedAxis]}`;
    drawLines(st, pi);
}
