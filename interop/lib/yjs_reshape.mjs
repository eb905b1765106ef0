// Rewrites a yjs update into an equivalent-looking one that yjs itself never
// emits, to test how a reader treats the layout of an update rather than its
// content:
//
//   permute  the client sections in an order other than yjs's descending one
//            (yjs integrates them in descending order all the same), and the
//            delete set's clients shuffled (yjs applies those in wire order,
//            which decides the order of events);
//   split    one client's structs in two consecutive sections (yjs keeps the
//            last section read for a client: the first half is dropped, and
//            what depends on it waits as pending);
//
// The structs and delete ranges are yjs's own (decodeUpdate), written back
// with yjs's encoders, so only the layout differs.

import { createRequire } from 'node:module';
import { Y } from './yjs_runner.mjs';

// The lib0 yjs itself uses (yjs 13.6.27 keeps its own copy).
const requireFromYjs = createRequire(createRequire(import.meta.url).resolve('yjs'));
const encoding = requireFromYjs('lib0/encoding');

/** A client's structs in the update's order: [[client, [struct...]]...]. */
function sectionsOf(structs) {
    const out = [];
    for (const s of structs) {
        const last = out[out.length - 1];
        if (last !== undefined && last[0] === s.id.client) last[1].push(s);
        else out.push([s.id.client, [s]]);
    }
    return out;
}

function writeSection(encoder, client, structs) {
    encoding.writeVarUint(encoder.restEncoder, structs.length);
    encoder.writeClient(client);
    encoding.writeVarUint(encoder.restEncoder, structs[0].id.clock);
    for (const s of structs) s.write(encoder, 0);
}

function writeDeleteSet(encoder, entries) {
    encoding.writeVarUint(encoder.restEncoder, entries.length);
    for (const [client, ranges] of entries) {
        encoder.resetDsCurVal();
        encoding.writeVarUint(encoder.restEncoder, client);
        encoding.writeVarUint(encoder.restEncoder, ranges.length);
        for (const range of ranges) {
            encoder.writeDsClock(range.clock);
            encoder.writeDsLen(range.len);
        }
    }
}

/**
 * The update `bytes` (v2 when `v2`) reshaped by `mode` ('permute' or
 * 'split'), drawing from the generator's PRNG `r`; null when the update
 * offers nothing to reshape that way.
 */
export function reshapeUpdate(bytes, v2, mode, r) {
    const { structs, ds } = v2 ? Y.decodeUpdateV2(bytes) : Y.decodeUpdate(bytes);
    let sections = sectionsOf(structs);
    let dsEntries = [...ds.clients.entries()];
    if (mode === 'permute') {
        if (sections.length < 2 && dsEntries.length < 2) return null;
        // A shuffle, or the ascending order half of the time (the one an
        // encoder that forgot to sort would write).
        sections = r.bool() ? r.shuffle(sections) : [...sections].reverse();
        dsEntries = r.shuffle(dsEntries);
    } else if (mode === 'split') {
        const candidates = sections.map((s, i) => i).filter((i) => sections[i][1].length >= 2);
        if (candidates.length === 0) return null;
        const i = r.pick(candidates);
        const [client, list] = sections[i];
        const k = r.range(1, list.length - 1);
        sections = [...sections.slice(0, i), [client, list.slice(0, k)], [client, list.slice(k)],
            ...sections.slice(i + 1)];
    } else {
        throw new Error(`unknown reshape mode ${mode}`);
    }
    const encoder = v2 ? new Y.UpdateEncoderV2() : new Y.UpdateEncoderV1();
    encoding.writeVarUint(encoder.restEncoder, sections.length);
    for (const [client, list] of sections) writeSection(encoder, client, list);
    writeDeleteSet(encoder, dsEntries);
    return encoder.toUint8Array();
}
