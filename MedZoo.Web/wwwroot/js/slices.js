// Draws a slice preview on a canvas: the grayscale image, optionally with a label map blended
// over it in per-class colours. Bytes arrive from .NET as Uint8Array (binary interop).

export function draw(canvas, width, height, image, labels, palette, alpha) {
    if (!canvas || !image) return;
    if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
    }
    const ctx = canvas.getContext('2d');
    const frame = ctx.createImageData(width, height);
    const px = frame.data;
    const n = width * height;
    for (let i = 0; i < n; i++) {
        let r = image[i], g = r, b = r;
        const c = labels ? labels[i] : 0;
        if (c > 0 && palette && c < palette.length) {
            const col = palette[c];
            r = r * (1 - alpha) + col[0] * alpha;
            g = g * (1 - alpha) + col[1] * alpha;
            b = b * (1 - alpha) + col[2] * alpha;
        }
        const o = i * 4;
        px[o] = r; px[o + 1] = g; px[o + 2] = b; px[o + 3] = 255;
    }
    ctx.putImageData(frame, 0, 0);
    canvas.dataset.drawn = String((Number(canvas.dataset.drawn) || 0) + 1);
}
