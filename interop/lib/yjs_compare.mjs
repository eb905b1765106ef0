// Compares two replays of a Yjs vector (the format of shared/vectors/yjs):
// the expected one (written by the real yjs) and an actual one (written by
// `crdt_replay --actual`, or by the JS runner when checking it).
//
// Rules (shared/vectors/yjs/README.md, "What an engine should check"):
// * every step's `expect` must match field by field; `emitted` entry by entry
//   (count, order, id, doc, local, v1 and v2 bytes);
// * `final`: per document every field; JSON objects are compared as
//   unordered (map key order depends on local integration order), arrays in
//   order;
// * an actual step carrying `error` (the replay could not execute it) is a
//   mismatch, and the replay stops there.

import { isCollectedPendingDivergence } from './yjs_known_divergence.mjs';
import { sortedJson } from './yjs_runner.mjs';

const same = (a, b) => sortedJson(a) === sortedJson(b);

function show(v) {
    return v === undefined ? '(absent)' : sortedJson(v);
}

// The fields that hold a document's encodeStateAsUpdate(V2), by step op
// ('final' for the final state), and whether each is v2.
const DOC_ENCODINGS = {
    final: { update: false, updateV2: true },
    sync: { update: false },
    syncV2: { updateV2: true },
    encodeStateAsUpdate: { v1: false, v2: true },
};

/**
 * Returns the mismatches, first first: {where, field, expected, actual}.
 * `where` is `step N (op)` or `final D`. At most `limit` entries. With a
 * `known` array, a document encoding that differs from yjs's only as
 * docs/compatibility.md says it does (lib/yjs_known_divergence.mjs) goes
 * there instead, in the same form; without one it is a mismatch.
 */
export function compareVectors(expected, actual, limit = 20, known = null) {
    const out = [];
    const add = (where, field, e, a) => {
        if (out.length < limit) out.push({ where, field, expected: show(e), actual: show(a) });
    };
    // A differing document encoding: a known divergence or a mismatch.
    const addEncoding = (op, where, field, e, a) => {
        const v2 = DOC_ENCODINGS[op]?.[field];
        if (known !== null && v2 !== undefined && isCollectedPendingDivergence(e, a, v2)) {
            known.push({ where, field, expected: show(e), actual: show(a) });
        } else {
            add(where, field, e, a);
        }
    };
    const eSteps = expected.steps ?? [];
    const aSteps = actual.steps ?? [];
    for (let i = 0; i < eSteps.length && out.length < limit; i++) {
        const es = eSteps[i];
        const as = aSteps[i];
        const where = `step ${i} (${es.op}${es.doc ? ' ' + es.doc : ''}${es.to ? ' ->' + es.to : ''})`;
        if (as === undefined) {
            add(where, 'step', 'executed', 'not executed');
            return out;
        }
        if (as.error !== undefined) {
            add(where, 'error', '(none)', as.error);
            return out;
        }
        const ee = es.expect ?? {};
        const ae = as.expect ?? {};
        const fields = [...new Set([...Object.keys(ee), ...Object.keys(ae)])];
        for (const f of fields) {
            if (f === 'emitted') {
                const el = ee.emitted ?? [];
                const al = ae.emitted ?? [];
                const n = Math.max(el.length, al.length);
                for (let j = 0; j < n; j++) {
                    const eu = el[j];
                    const au = al[j];
                    if (eu === undefined || au === undefined) {
                        add(where, `emitted[${j}]`, eu, au);
                        continue;
                    }
                    for (const k of ['id', 'doc', 'local', 'v1', 'v2']) {
                        if (!same(eu[k], au[k])) add(where, `emitted[${j}].${k}`, eu[k], au[k]);
                    }
                }
            } else if (!same(ee[f], ae[f])) {
                addEncoding(es.op, where, f, ee[f], ae[f]);
            }
        }
    }
    if (aSteps.length > eSteps.length) add('steps', 'count', eSteps.length, aSteps.length);
    const ef = expected.final ?? {};
    const af = actual.final ?? {};
    for (const d of Object.keys(ef)) {
        if (af[d] === undefined) {
            add(`final ${d}`, 'doc', 'present', undefined);
            continue;
        }
        for (const f of Object.keys(ef[d])) {
            if (!same(ef[d][f], af[d][f])) addEncoding('final', `final ${d}`, f, ef[d][f], af[d][f]);
        }
    }
    return out;
}

/** One line per mismatch, for reports. */
export function formatMismatch(m) {
    const clip = (s) => (s.length > 600 ? `${s.slice(0, 600)}… (${s.length} chars)` : s);
    return `${m.where}: ${m.field}\n    expected (yjs): ${clip(m.expected)}\n    actual:         ${clip(m.actual)}`;
}
