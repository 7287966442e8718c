// Small canvas line chart for live training curves. MudChart re-renders its whole SVG on every
// update; this draws thousands of points in a few milliseconds and keeps the DOM small.
// The module keeps each chart's lines (keyed by its canvas): the server sends them whole once, then
// only the points each line gained, and the lines are downsampled here, per pixel column, to draw.
// spec (whole, base null): { seq, series: [{ name, color, x: number[], y: (number|null)[], dashed?, markers? }],
//                            xLabel?, yMin?, yMax? }
// spec (delta): { seq, base, series: [{ x, y, replace? }] } — one entry per line, appended to (or
//                replacing) what spec number `base` left; null in y is a gap.

const charts = new WeakMap();

const PAD = { left: 52, right: 12, top: 10, bottom: 34 };

function niceStep(range, target) {
    const raw = range / Math.max(1, target);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const n = raw / mag;
    return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
}

function format(v, step) {
    const digits = Math.max(0, -Math.floor(Math.log10(step)));
    return v.toFixed(Math.min(digits, 4));
}

function finite(v) {
    return v !== null && v !== undefined && isFinite(v);
}

// Applies a spec to what the chart holds and redraws. Returns true when a delta does not build on
// what this canvas holds (a lost or newer state): the caller then sends everything.
export function draw(canvas, spec) {
    if (!canvas) return false;
    let state = charts.get(canvas);
    if (spec.base === null || spec.base === undefined) {
        state = {
            seq: spec.seq, xLabel: spec.xLabel, yMin: spec.yMin, yMax: spec.yMax, loads: (state?.loads ?? 0) + 1,
            series: spec.series.map(s => ({ name: s.name, color: s.color, dashed: !!s.dashed, markers: !!s.markers, x: s.x, y: s.y })),
        };
        charts.set(canvas, state);
    } else {
        if (!state || state.seq !== spec.base || state.series.length !== spec.series.length) return true;
        spec.series.forEach((d, i) => {
            const s = state.series[i];
            if (d.replace) { s.x = d.x; s.y = d.y; return; }
            for (let j = 0; j < d.x.length; j++) { s.x.push(d.x[j]); s.y.push(d.y[j]); }
        });
        state.seq = spec.seq;
    }
    canvas.dataset.loads = String(state.loads);
    canvas.dataset.received = String(spec.series.reduce((n, s) => n + s.y.filter(finite).length, 0));
    render(canvas, state);
    return false;
}

// The points of a line to draw in `columns` pixel columns: all of them when they fit, else for each
// column its lowest and highest value in x order (so spikes stay visible), or its first point
// where it has no value (so a gap stays a gap).
export function downsample(x, y, xmin, xmax, columns) {
    if (x.length <= 2 * columns) return { x, y };
    const ox = [], oy = [];
    const span = xmax - xmin || 1;
    let i = 0;
    while (i < x.length) {
        const bucket = Math.floor((x[i] - xmin) / span * columns);
        const first = i;
        let lo = -1, hi = -1;
        for (; i < x.length && Math.floor((x[i] - xmin) / span * columns) === bucket; i++) {
            if (!finite(y[i])) continue;
            if (lo < 0 || y[i] < y[lo]) lo = i;
            if (hi < 0 || y[i] > y[hi]) hi = i;
        }
        const keep = lo < 0 ? [first] : lo === hi ? [lo] : [Math.min(lo, hi), Math.max(lo, hi)];
        for (const k of keep) { ox.push(x[k]); oy.push(finite(y[k]) ? y[k] : null); }
    }
    return { x: ox, y: oy };
}

function render(canvas, spec) {
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 400;
    const height = canvas.clientHeight || 220;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
        canvas.width = Math.round(width * dpr);
        canvas.height = Math.round(height * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);

    let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity, points = 0;
    for (const s of spec.series) {
        for (let i = 0; i < s.x.length; i++) {
            const y = s.y[i];
            if (y === null || !isFinite(y)) continue;
            xmin = Math.min(xmin, s.x[i]); xmax = Math.max(xmax, s.x[i]);
            ymin = Math.min(ymin, y); ymax = Math.max(ymax, y);
            points++;
        }
    }
    canvas.dataset.points = String(points);
    canvas.dataset.drawn = '0';
    ctx.font = '11px Roboto, sans-serif';
    ctx.fillStyle = '#777';
    if (points === 0) {
        ctx.fillText('waiting for data…', width / 2 - 45, height / 2);
        return;
    }
    if (spec.yMin !== undefined && spec.yMin !== null) ymin = Math.min(ymin, spec.yMin);
    if (spec.yMax !== undefined && spec.yMax !== null) ymax = Math.max(ymax, spec.yMax);
    if (xmax === xmin) { xmin -= 0.5; xmax += 0.5; }
    if (ymax === ymin) { ymin -= 0.5; ymax += 0.5; }
    const yPad = (ymax - ymin) * 0.05;
    ymin -= yPad; ymax += yPad;

    const pw = width - PAD.left - PAD.right, ph = height - PAD.top - PAD.bottom;
    const sx = x => PAD.left + (x - xmin) / (xmax - xmin) * pw;
    const sy = y => PAD.top + (1 - (y - ymin) / (ymax - ymin)) * ph;

    // Grid and ticks.
    ctx.strokeStyle = '#e6e6e6';
    ctx.lineWidth = 1;
    const ys = niceStep(ymax - ymin, 5);
    for (let v = Math.ceil(ymin / ys) * ys; v <= ymax; v += ys) {
        const y = sy(v);
        ctx.beginPath(); ctx.moveTo(PAD.left, y); ctx.lineTo(width - PAD.right, y); ctx.stroke();
        ctx.fillText(format(v, ys), 4, y + 4);
    }
    const xs = niceStep(xmax - xmin, 6);
    for (let v = Math.ceil(xmin / xs) * xs; v <= xmax; v += xs) {
        const x = sx(v);
        ctx.beginPath(); ctx.moveTo(x, PAD.top); ctx.lineTo(x, PAD.top + ph); ctx.stroke();
        ctx.fillText(format(v, xs), x - 8, PAD.top + ph + 14);
    }
    ctx.fillStyle = '#555';
    if (spec.xLabel) ctx.fillText(spec.xLabel, PAD.left + pw / 2 - 20, height - 4);

    // Lines, downsampled per pixel column; a NaN breaks the line.
    let drawn = 0;
    for (const line of spec.series) {
        const s = { ...line, ...downsample(line.x, line.y, xmin, xmax, Math.max(1, Math.floor(pw))) };
        drawn += s.y.filter(finite).length;
        ctx.strokeStyle = s.color;
        ctx.lineWidth = 1.6;
        ctx.setLineDash(s.dashed ? [5, 4] : []);
        ctx.beginPath();
        let pen = false;
        for (let i = 0; i < s.x.length; i++) {
            const y = s.y[i];
            if (y === null || !isFinite(y)) { pen = false; continue; }
            const px = sx(s.x[i]), py = sy(y);
            if (pen) ctx.lineTo(px, py); else ctx.moveTo(px, py);
            pen = true;
        }
        ctx.stroke();
        // A point with no neighbour to join (a series of one, or one value between gaps) draws
        // nothing as a line: it gets a marker, as does every point of a series asking for them.
        ctx.setLineDash([]);
        ctx.fillStyle = s.color;
        for (let i = 0; i < s.x.length; i++) {
            const y = s.y[i];
            if (!finite(y)) continue;
            if (!s.markers && (finite(s.y[i - 1]) || finite(s.y[i + 1]))) continue;
            ctx.beginPath(); ctx.arc(sx(s.x[i]), sy(y), 3, 0, 2 * Math.PI); ctx.fill();
        }
    }
    ctx.setLineDash([]);
    canvas.dataset.drawn = String(drawn);
}
