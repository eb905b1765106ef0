// mulberry32: the small seeded generator every interop generator uses, so a
// seed names the same scenario in every run and on every machine.

/** A function returning floats in [0, 1) determined by `seed` (uint32). */
export function mulberry32(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
