// Brings a form field into view and focuses it (the New run form's error links). The field may sit
// in a panel that is still opening: wait until it has a size and stops moving, at most about a second.
export function revealField(id) {
    return new Promise(resolve => {
        let last = null, stable = 0, frames = 0;
        const step = () => {
            const el = document.getElementById(id);
            const box = el ? target(el).getBoundingClientRect() : null;
            const key = box && box.height > 0 ? `${Math.round(box.top)}:${Math.round(box.height)}` : null;
            stable = key !== null && key === last ? stable + 1 : 0;
            last = key;
            if (el && (stable >= 3 || frames++ > 60)) {
                const t = target(el);
                t.scrollIntoView({ block: 'center' });
                t.focus({ preventScroll: true });
                resolve();
            } else if (!el && frames++ > 60) {
                resolve();
            } else {
                requestAnimationFrame(step);
            }
        };
        requestAnimationFrame(step);
    });
}

// A select keeps its input hidden: focus the element of its box that takes focus instead.
function target(el) {
    if (el.offsetParent !== null && el.type !== 'hidden') return el;
    const box = el.closest('.mud-select, .mud-input-control');
    return box?.querySelector('[tabindex]:not([tabindex="-1"])') ?? box ?? el;
}
