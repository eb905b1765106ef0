#!/usr/bin/env node
// Seeded random Yjs scenarios in the golden-vector format
// (shared/vectors/yjs/README.md), with every `expect` and the `final` state
// filled in by running the real yjs 13.6.27 (lib/yjs_runner.mjs).
//
//   node yjs_gen.mjs --seed N [--features LIST] [--out FILE]
//       prints (or writes) the scenario of seed N
//   node yjs_gen.mjs --check FILE_OR_DIR...
//       replays golden vectors through lib/yjs_runner.mjs and compares them
//       with their recorded expectations (proves the runner reproduces
//       shared/vectors/yjs/generate.mjs); exit 1 on any difference
//   node yjs_gen.mjs --selfcheck [--seeds N] [--start S]
//       generates seeds and replays each generated file from scratch in a
//       fresh runner: the result must be identical (the file alone determines
//       the bytes), and generating twice must give the same text
//
// A scenario: 2-5 documents (client ids of varied magnitude, gc on, off or
// mixed), roots m (map), t (text), a (array); random local operations on the
// roots and on nested Y.Map / Y.Text / Y.Array values (also inside arrays),
// multi-operation transactions, typing bursts, unicode text (astral
// characters; some seeds deliberately split surrogate pairs), Any values of
// every kind (integer/float boundaries, -0, NaN, ±Infinity, BigInt,
// undefined, bytes, objects with integer-like keys); updates delivered one by
// one in random order to each other document (out-of-order delivery leaves
// structs and deletes pending), as v1 or v2, relayed duplicates, retries of
// any earlier update, state-vector syncs (v1 and v2), encodeStateAsUpdate
// against another doc's state vector delivered later, mergeUpdates /
// diffUpdate results delivered later, format conversions, state vectors from
// updates, relative positions, client id switches, and (some seeds) deep
// observer events, and updates reshaped into layouts yjs never writes (client
// sections out of order or split, the delete set's clients shuffled:
// lib/yjs_reshape.mjs). Most seeds end with a full sync through a hub document
// and are checked to have converged.
//
// Features (--features, comma separated; default "all"): core (always on),
// nested, utils, relpos, clientid, events, dupkeys (preliminary Y.Map entries
// may repeat a key), reshape, format (rich text attributes and
// embeds; off in "all" because the spec leaves formatting cleanup
// unspecified), or "all", "-name" to remove one.
//
// Determinism: the generator uses its own PRNG (sfc32 seeded through
// splitmix32), never Math.random; yjs itself is deterministic given fixed
// client ids and guids.

import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareVectors, formatMismatch } from './lib/yjs_compare.mjs';
import { reshapeUpdate } from './lib/yjs_reshape.mjs';
import { Y, YjsRunner, YJS_VERSION, b64, runVector, sortedJson } from './lib/yjs_runner.mjs';

// ---------------------------------------------------------------------------
// PRNG

function splitmix32(seed) {
    let s = seed >>> 0;
    return () => {
        s = (s + 0x9e3779b9) >>> 0;
        let z = s;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        return (z ^ (z >>> 16)) >>> 0;
    };
}

/** sfc32; `seed` is any non-negative integer below 2^53. */
export function makeRng(seed) {
    const init = splitmix32((seed % 4294967296) ^ Math.floor(seed / 4294967296));
    let a = init();
    let b = init();
    let c = init();
    let d = init();
    const u32 = () => {
        const t = (((a + b) >>> 0) + d) >>> 0;
        d = (d + 1) >>> 0;
        a = b ^ (b >>> 9);
        b = (c + (c << 3)) >>> 0;
        c = ((c << 21) | (c >>> 11)) >>> 0;
        c = (c + t) >>> 0;
        return t;
    };
    for (let i = 0; i < 12; i++) u32();
    const next = () => u32() / 4294967296;
    const r = {
        u32,
        next,
        int: (n) => Math.floor(next() * n), // 0..n-1
        range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // lo..hi
        pick: (arr) => arr[Math.floor(next() * arr.length)],
        bool: (p = 0.5) => next() < p,
        /** Picks a key of `table` ({name: weight}) by weight. */
        weighted: (table) => {
            const entries = Object.entries(table).filter(([, w]) => w > 0);
            let x = next() * entries.reduce((s, [, w]) => s + w, 0);
            for (const [k, w] of entries) {
                if ((x -= w) < 0) return k;
            }
            return entries[entries.length - 1][0];
        },
        shuffle: (arr) => {
            for (let i = arr.length - 1; i > 0; i--) {
                const j = Math.floor(next() * (i + 1));
                [arr[i], arr[j]] = [arr[j], arr[i]];
            }
            return arr;
        },
    };
    return r;
}

// ---------------------------------------------------------------------------
// values

const ALPHABET = [
    'a', 'b', 'c', 'x', 'y', 'z', ' ', '\n', 'é', 'ß', '中', '文', '€',
    '😀', '👍🏽', '𝄞', '🇩🇪', 'a\u0301', '\t', '"', '\\',
];
const KEYS = ['a', 'b', 'c', 'd', 'e', 'color', 'ключ', 'k😀', ''];

const num = (value) => ({ $type: 'number', value });
const big = (value) => ({ $type: 'bigint', value });
const bytes = (r, n) => ({ $type: 'bytes', base64: b64(Uint8Array.from({ length: n }, () => r.int(256))) });

function randomString(r, maxLen = 5) {
    let s = '';
    const n = r.bool(0.1) ? r.range(6, 24) : r.range(1, maxLen);
    for (let i = 0; i < n; i++) s += r.pick(ALPHABET);
    return s;
}

function randomNumber(r) {
    switch (r.int(8)) {
        case 0:
            return r.int(200) - 100;
        case 1:
            return r.int(2 ** 20) - 2 ** 19;
        case 2:
            return r.pick([63, 64, -64, 8191, 8192, 2 ** 31 - 1, -(2 ** 31 - 1), 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53, -(2 ** 53 - 1), 1e21]);
        case 3:
            return Math.round(r.next() * 1e6) / 1000;
        case 4:
            return r.pick([0.5, 1.5, -2.25, 0.1, 1 / 3, 1e300, 5e-324, 3.4028234663852886e38]);
        case 5:
            return r.pick([num('-0'), num('NaN'), num('Infinity'), num('-Infinity')]);
        default:
            return r.int(10);
    }
}

/** A plain JSON-ish object whose key order exercises JS property order. */
function randomObject(r, depth) {
    const keys = r.shuffle(['p', 'q', '1', '0', '10', 'z', 'ä', '-1', '01']).slice(0, r.range(0, 4));
    const o = {};
    for (const k of keys) o[k] = randomAny(r, depth + 1, true);
    return o;
}

/**
 * An Any value. `nested` (inside an object or array) allows BigInt and
 * undefined there; at top level the caller decides what the type accepts.
 */
function randomAny(r, depth = 0, nested = false) {
    const deep = depth >= 2;
    switch (r.int(deep ? 6 : 9)) {
        case 0:
        case 1:
            return randomNumber(r);
        case 2:
            return randomString(r);
        case 3:
            return r.pick([true, false, null]);
        case 4:
            return nested ? r.pick([big(String(r.int(1000) - 500)), big('9223372036854775807'), { $type: 'undefined' }, bytes(r, r.int(4))]) : randomString(r, 3);
        case 5:
            return r.int(100);
        case 6:
            return Array.from({ length: r.range(0, 3) }, () => randomAny(r, depth + 1, true));
        case 7:
            return randomObject(r, depth);
        default:
            return bytes(r, r.range(0, 3));
    }
}

// ---------------------------------------------------------------------------
// generator

const ROOTS = [
    { name: 'm', kind: 'map' },
    { name: 't', kind: 'text' },
    { name: 'a', kind: 'array' },
];

const ALL_FEATURES = ['core', 'nested', 'utils', 'relpos', 'clientid', 'events', 'dupkeys', 'reshape'];

/** Parses `--features` ("all", "a,b", "all,-events,format"). */
export function parseFeatures(spec = 'all') {
    const set = new Set(['core']);
    for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (part === 'all') ALL_FEATURES.forEach((f) => set.add(f));
        else if (part.startsWith('-')) set.delete(part.slice(1));
        else if ([...ALL_FEATURES, 'format'].includes(part)) set.add(part);
        else throw new Error(`unknown feature ${part}`);
    }
    set.add('core');
    return set;
}

function clientIdsFor(r, n) {
    const style = r.int(4);
    const ids = new Set();
    while (ids.size < n) {
        let id;
        if (style === 0) id = r.range(1, 100);
        else if (style === 1) id = r.u32();
        else if (style === 2) id = 1000 + ids.size * r.range(1, 3);
        else id = r.bool() ? 2 ** 31 + r.int(1000) : r.range(1, 2 ** 31 - 1);
        ids.add(id);
    }
    return [...ids];
}

/**
 * Generates the scenario of `seed` (the vector object, expectations filled).
 * `features` is a Set from parseFeatures().
 */
export function generateYjsScenario(seed, features = parseFeatures()) {
    const r = makeRng(seed);
    const has = (f) => features.has(f);
    const nDocs = r.range(2, 5);
    const names = Array.from({ length: nDocs }, (_, i) => String.fromCharCode(65 + i));
    const allIds = clientIdsFor(r, nDocs * 2);
    const gcMode = r.weighted({ on: 5, off: 2, mixed: 3 });
    const docs = names.map((name, i) => ({
        name,
        clientID: allIds[i],
        gc: gcMode === 'on' ? true : gcMode === 'off' ? false : r.bool(),
    }));
    const altIds = new Map(names.map((n, i) => [n, [allIds[i], allIds[nDocs + i]]]));
    const profile = {
        rounds: r.range(15, 70),
        unicodeSplit: r.bool(0.3), // turned off below for rich text
        observe: has('events') && r.bool(0.2),
        finalSync: r.bool(0.85),
        v2Share: r.pick([0, 0.3, 0.7]),
        nested: has('nested') && r.bool(0.8),
        format: has('format') && r.bool(0.5),
    };
    // Rich text and astral characters: concurrent formatting in yjs can leave
    // lone surrogates (no U+FFFD replacement) and peers that do not converge;
    // such text cannot even be written as valid UTF-8 JSON. Seeds with
    // formatting therefore keep text in the BMP (mapped after drawing, so
    // the random sequence is unchanged).
    if (profile.format) profile.unicodeSplit = false;
    const textChars = (str) => (profile.format ? str.replace(/[\u{10000}-\u{10FFFF}]/gu, '€') : str);
    const vector = {
        name: `yjs_gen_seed${seed}`,
        description:
            `yjs_gen.mjs seed ${seed} (features ${[...features].sort().join(',')}): ${nDocs} docs, gc ${gcMode}, ` +
            `${profile.rounds} rounds${profile.unicodeSplit ? ', surrogate pairs may be split' : ''}` +
            `${profile.observe ? ', observed' : ''}${profile.finalSync ? ', final sync' : ', no final sync'}.`,
        yjsVersion: YJS_VERSION,
        docs,
        roots: ROOTS,
        observe: profile.observe,
        converged: false,
        steps: [],
    };
    const runner = new YjsRunner(vector);

    // Mailboxes: update ids waiting to be delivered to each doc.
    const mailbox = new Map(names.map((n) => [n, []]));
    const localIds = []; // ids of local updates (safe inputs for mergeUpdates)
    const allUpdateIds = [];
    const relposIds = [];
    let asCounter = 0;
    const post = (to, id) => mailbox.get(to).push(id);
    const route = (step) => {
        for (const u of step.expect?.emitted ?? []) {
            allUpdateIds.push(u.id);
            if (u.local) {
                localIds.push(u.id);
                for (const n of names) if (n !== u.doc) post(n, u.id);
            } else if (r.bool(0.15)) {
                // relay a remote transaction's update (a duplicate delivery)
                const others = names.filter((n) => n !== u.doc);
                post(r.pick(others), u.id);
            }
        }
    };
    const push = (op) => {
        const step = runner.step(op);
        vector.steps.push(step);
        route(step);
        return step;
    };

    // --- targets -------------------------------------------------------------

    /** Shared types reachable from the roots of doc `d`: [{target, type}]. */
    const typesOf = (d) => {
        const doc = runner.doc(d);
        const out = [];
        const walk = (type, root, path, depth) => {
            out.push({ target: { root, path }, type });
            if (!profile.nested || depth >= 3) return;
            if (type instanceof Y.Map) {
                for (const [k, v] of type.entries()) {
                    if (v instanceof Y.AbstractType) walk(v, root, [...path, k], depth + 1);
                }
            } else if (type instanceof Y.Array) {
                type.toArray().forEach((v, i) => {
                    if (v instanceof Y.AbstractType) walk(v, root, [...path, i], depth + 1);
                });
            }
        };
        walk(doc.getMap('m'), 'm', [], 0);
        walk(doc.getText('t'), 't', [], 0);
        walk(doc.getArray('a'), 'a', [], 0);
        return out;
    };
    const typesOfKind = (d, cls) => typesOf(d).filter((x) => x.type instanceof cls);

    // --- values --------------------------------------------------------------

    const prelim = (depth) => {
        switch (r.int(3)) {
            case 0:
                return r.bool(0.2) ? { $type: 'ymap' } : {
                    $type: 'ymap',
                    entries: prelimEntries(depth),
                };
            case 1:
                return r.bool(0.2) ? { $type: 'ytext' } : { $type: 'ytext', text: textChars(randomString(r)) };
            default:
                return r.bool(0.2) ? { $type: 'yarray' } : {
                    $type: 'yarray',
                    items: Array.from({ length: r.range(1, 3) }, () => arrayValue(depth + 1)),
                };
        }
    };
    // new Y.Map(entries) builds a JS Map: a repeated key keeps its first
    // position and its last value (feature dupkeys; otherwise keys differ).
    const prelimEntries = (depth) => {
        const entries = Array.from({ length: r.range(1, 3) }, () => [r.pick(KEYS), mapValue(depth + 1)]);
        if (has('dupkeys')) return entries;
        const seen = new Set();
        return entries.filter(([k]) => !seen.has(k) && seen.add(k));
    };
    // Y.Map.set accepts undefined and BigInt at top level; Y.Array does not.
    function mapValue(depth = 0) {
        if (profile.nested && depth < 2 && r.bool(0.25)) return prelim(depth);
        if (r.bool(0.08)) return r.pick([{ $type: 'undefined' }, big(String(r.int(2 ** 20) - 2 ** 19)), big('-9223372036854775808')]);
        return randomAny(r, 0, false);
    }
    function arrayValue(depth = 0) {
        if (profile.nested && depth < 2 && r.bool(0.2)) return prelim(depth);
        return randomAny(r, 0, false);
    }

    // --- local operations ----------------------------------------------------

    /** Adjusts a text index off the middle of a surrogate pair (unless splitting). */
    const fixIndex = (str, i) => {
        const low = (j) => j > 0 && j < str.length && str.charCodeAt(j) >= 0xdc00 && str.charCodeAt(j) <= 0xdfff;
        if (!profile.unicodeSplit) {
            while (low(i)) i--;
        } else if (r.bool(0.3)) {
            const mids = [];
            for (let j = 1; j < str.length; j++) if (low(j)) mids.push(j);
            if (mids.length > 0) i = r.pick(mids);
        }
        return i;
    };
    const textOp = (d, target, text) => {
        const str = text.toString();
        const len = str.length;
        const what = r.weighted({ insert: 6, delete: len > 0 ? 3 : 0, format: profile.format && len > 0 ? 1 : 0, embed: profile.format ? 0.5 : 0 });
        if (what === 'delete') {
            const i = fixIndex(str, r.int(len));
            let end = Math.min(len, i + r.range(1, 6));
            if (!profile.unicodeSplit && end < len && str.charCodeAt(end) >= 0xdc00 && str.charCodeAt(end) <= 0xdfff) end++;
            return { op: 'text.delete', doc: d, target, index: i, length: end - i };
        }
        if (what === 'format') {
            const i = fixIndex(str, r.int(len));
            const attrs = { [r.pick(['bold', 'italic', 'color'])]: r.pick([true, null, 'red', 3]) };
            let end = Math.min(len, i + r.range(1, 5));
            if (!profile.unicodeSplit && end < len && str.charCodeAt(end) >= 0xdc00 && str.charCodeAt(end) <= 0xdfff) end++;
            return { op: 'text.format', doc: d, target, index: i, length: end - i, attributes: attrs };
        }
        if (what === 'embed') {
            return { op: 'text.insertEmbed', doc: d, target, index: fixIndex(str, r.int(len + 1)), embed: { image: randomString(r, 3) } };
        }
        const op = { op: 'text.insert', doc: d, target, index: fixIndex(str, r.int(len + 1)), text: textChars(randomString(r)) };
        if (profile.format && r.bool(0.2)) op.attributes = { bold: r.pick([true, null]) };
        return op;
    };
    const arrayOp = (d, target, arr) => {
        const len = arr.length;
        const what = r.weighted({ insert: 5, push: 2, delete: len > 0 ? 3 : 0 });
        if (what === 'delete') {
            const i = r.int(len);
            return { op: 'array.delete', doc: d, target, index: i, length: r.range(1, Math.min(4, len - i)) };
        }
        const values = Array.from({ length: r.range(1, 3) }, () => arrayValue());
        if (what === 'push') return { op: 'array.push', doc: d, target, values };
        return { op: 'array.insert', doc: d, target, index: r.int(len + 1), values };
    };
    const mapOp = (d, target, map) => {
        const keys = [...map.keys()];
        if (keys.length > 0 && r.bool(0.25)) return { op: 'map.delete', doc: d, target, key: r.pick(keys) };
        const key = keys.length > 0 && r.bool(0.4) ? r.pick(keys) : r.pick(KEYS);
        return { op: 'map.set', doc: d, target, key, value: mapValue() };
    };
    /** One random local operation of doc d on its current state. */
    const localOp = (d) => {
        const kind = r.weighted({ map: 3, text: 4, array: 3 });
        const cls = kind === 'map' ? Y.Map : kind === 'text' ? Y.Text : Y.Array;
        const cands = typesOfKind(d, cls);
        // prefer the root (first entry) half of the time
        const { target, type } = r.bool(0.5) || cands.length === 1 ? cands[0] : r.pick(cands.slice(1));
        if (kind === 'map') return mapOp(d, target, type);
        if (kind === 'text') return textOp(d, target, type);
        return arrayOp(d, target, type);
    };

    // --- exchange operations -------------------------------------------------

    const deliver = (to) => {
        const box = mailbox.get(to);
        if (box.length === 0) return false;
        // usually the oldest few (roughly in order), sometimes any (out of order)
        const i = r.bool(0.5) ? r.int(Math.min(2, box.length)) : r.int(box.length);
        const id = box.splice(i, 1)[0];
        const op = { op: 'apply', to, update: id };
        if (r.bool(profile.v2Share)) op.format = 'v2';
        push(reshaped(op));
        return true;
    };
    // Some deliveries carry the update's bytes in another layout; most of
    // those of several clients (in structs or deletes), whose order is what
    // a layout can change.
    const reshaped = (op) => {
        if (!has('reshape')) return op;
        const v2 = op.format === 'v2';
        const u = runner.update(op.update);
        const { structs, ds } = v2 ? Y.decodeUpdateV2(u.v2) : Y.decodeUpdate(u.v1);
        const several = new Set(structs.map((s) => s.id.client)).size >= 2 || ds.clients.size >= 2;
        if (!r.bool(several ? 0.7 : 0.2)) return op;
        const bytes = reshapeUpdate(v2 ? u.v2 : u.v1, v2, r.bool(0.6) ? 'permute' : 'split', r);
        if (bytes === null) return op;
        const { update: _id, ...rest } = op;
        return { ...rest, bytes: b64(bytes) };
    };
    const newId = (prefix) => `${prefix}${asCounter++}`;

    // --- main loop -----------------------------------------------------------

    const stepKinds = {
        local: 10,
        typing: 1.5,
        transact: 2,
        deliver: 8,
        redeliver: 0.4,
        sync: 1.5,
        encode: has('utils') ? 0.8 : 0,
        merge: has('utils') ? 0.6 : 0,
        diff: has('utils') ? 0.6 : 0,
        inspect: has('utils') ? 0.6 : 0,
        relpos: has('relpos') ? 0.7 : 0,
        clientid: has('clientid') ? 0.3 : 0,
    };
    for (let round = 0; round < profile.rounds; round++) {
        const d = r.pick(names);
        switch (r.weighted(stepKinds)) {
            case 'local':
                push(localOp(d));
                break;
            case 'typing': {
                const { target, type } = r.pick(typesOfKind(d, Y.Text));
                let i = fixIndex(type.toString(), r.int(type.length + 1));
                for (let k = r.range(2, 6); k > 0; k--) {
                    const ch = textChars(r.pick(ALPHABET));
                    push({ op: 'text.insert', doc: d, target, index: i, text: ch });
                    i += ch.length;
                }
                break;
            }
            case 'transact': {
                const result = runner.beginStep();
                const ops = [];
                runner.doc(d).transact(() => {
                    for (let k = r.range(2, 5); k > 0; k--) {
                        const op = localOp(d);
                        runner.exec(op, d, result);
                        const { doc: _d, ...sub } = op;
                        ops.push(sub);
                    }
                });
                const step = runner.endStep({ op: 'transact', doc: d, ops }, result);
                vector.steps.push(step);
                route(step);
                break;
            }
            case 'deliver': {
                const to = r.pick(names);
                for (let k = r.bool(0.3) ? r.range(2, 4) : 1; k > 0; k--) deliver(to);
                break;
            }
            case 'redeliver': {
                // a retry: any update again, possibly one the doc already has
                if (allUpdateIds.length === 0) break;
                const op = { op: 'apply', to: d, update: r.pick(allUpdateIds) };
                if (r.bool(profile.v2Share)) op.format = 'v2';
                push(reshaped(op));
                break;
            }
            case 'sync': {
                const [from, to] = r.shuffle([...names]).slice(0, 2);
                push({ op: r.bool(profile.v2Share) ? 'syncV2' : 'sync', from, to });
                break;
            }
            case 'encode': {
                const other = r.pick(names.filter((n) => n !== d));
                const op = { op: 'encodeStateAsUpdate', doc: d, as: newId('S') };
                if (r.bool(0.75)) op.targetStateVectorOf = other;
                push(op);
                allUpdateIds.push(op.as);
                post(other, op.as);
                break;
            }
            case 'merge': {
                if (localIds.length < 2) break;
                const ids = Array.from({ length: r.range(2, 4) }, () => r.pick(localIds));
                const op = { op: 'mergeUpdates', updates: [...new Set(ids)], as: newId('M') };
                push(op);
                allUpdateIds.push(op.as);
                post(r.pick(names), op.as);
                break;
            }
            case 'diff': {
                if (localIds.length === 0) break;
                const to = r.pick(names);
                const op = { op: 'diffUpdate', update: r.pick(localIds), targetStateVectorOf: to, as: newId('D') };
                push(op);
                allUpdateIds.push(op.as);
                post(to, op.as);
                break;
            }
            case 'inspect': {
                const what = r.int(3);
                if (what === 0) push({ op: 'encodeStateVector', doc: d });
                else if (allUpdateIds.length > 0) {
                    const id = r.pick(allUpdateIds);
                    push({ op: what === 1 ? 'convertUpdateFormat' : 'encodeStateVectorFromUpdate', update: id });
                }
                break;
            }
            case 'relpos': {
                if (relposIds.length > 0 && r.bool(0.5)) {
                    const { id, target } = r.pick(relposIds);
                    const at = r.pick(names);
                    const op = { op: 'relpos.resolve', doc: at, relpos: id };
                    try {
                        runner.resolve(runner.doc(at), target);
                        op.target = target;
                    } catch {
                        // the type does not exist (yet) in that doc: resolve without target
                    }
                    push(op);
                } else {
                    const cands = [...typesOfKind(d, Y.Text), ...typesOfKind(d, Y.Array)];
                    const { target, type } = r.pick(cands);
                    const id = newId('R');
                    push({ op: 'relpos.create', doc: d, target, index: r.int(type.length + 1), assoc: r.pick([0, -1, 1]), as: id });
                    relposIds.push({ id, target });
                }
                break;
            }
            case 'clientid': {
                const [primary, alt] = altIds.get(d);
                const current = runner.doc(d).clientID;
                push({ op: 'setClientID', doc: d, clientID: current === primary ? alt : primary });
                break;
            }
        }
    }

    // --- the end: deliver what is left, then (usually) sync through a hub ----
    for (const to of r.shuffle([...names])) {
        const keep = profile.finalSync ? 0 : r.int(2); // without final sync, leave some undelivered
        while (mailbox.get(to).length > keep) deliver(to);
    }
    if (profile.finalSync) {
        const hub = r.pick(names);
        const syncOp = () => (r.bool(profile.v2Share) ? 'syncV2' : 'sync');
        for (const n of r.shuffle(names.filter((x) => x !== hub))) push({ op: syncOp(), from: n, to: hub });
        for (const n of r.shuffle(names.filter((x) => x !== hub))) push({ op: syncOp(), from: hub, to: n });
    }
    vector.final = runner.final();
    const refJson = sortedJson(vector.final[names[0]].json);
    const refSv = vector.final[names[0]].stateVector;
    vector.converged = names.every((n) => sortedJson(vector.final[n].json) === refJson && vector.final[n].stateVector === refSv);
    if (profile.finalSync && !vector.converged) {
        const d = names.find((n) => sortedJson(vector.final[n].json) !== refJson || vector.final[n].stateVector !== refSv);
        throw new Error(
            `seed ${seed}: documents did not converge after the final sync: ${names[0]} vs ${d}: ` +
                `json ${sortedJson(vector.final[names[0]].json)} vs ${sortedJson(vector.final[d].json)}, ` +
                `state vector ${refSv} vs ${vector.final[d].stateVector}`
        );
    }
    // key order of the header as in the golden vectors
    const { steps, final, ...head } = vector;
    return { ...head, steps, final };
}

// ---------------------------------------------------------------------------
// CLI

function vectorFiles(paths) {
    const out = [];
    for (const p of paths) {
        if (statSync(p).isDirectory()) {
            for (const f of readdirSync(p).sort()) {
                if (f.endsWith('.json') && f !== 'package.json' && f !== 'package-lock.json') out.push(join(p, f));
            }
        } else {
            out.push(p);
        }
    }
    return out;
}

function checkVectors(paths) {
    let bad = 0;
    const files = vectorFiles(paths);
    for (const f of files) {
        const expected = JSON.parse(readFileSync(f, 'utf8'));
        let mism;
        try {
            mism = compareVectors(expected, runVector(expected), 3);
        } catch (e) {
            mism = [{ where: 'replay', field: 'exception', expected: '(none)', actual: String(e?.stack ?? e) }];
        }
        if (mism.length > 0) {
            bad++;
            console.log(`FAIL ${f}`);
            for (const m of mism) console.log('  ' + formatMismatch(m));
        }
    }
    console.log(`yjs_gen --check: ${files.length} vectors, ${bad} differ`);
    return bad === 0;
}

function selfCheck(start, seeds, features) {
    let bad = 0;
    for (let s = start; s < start + seeds; s++) {
        const text = JSON.stringify(generateYjsScenario(s, features));
        const again = JSON.stringify(generateYjsScenario(s, features));
        const vec = JSON.parse(text);
        const mism = text === again ? compareVectors(vec, runVector(vec), 3) : [{ where: 'generator', field: 'determinism', expected: 'same text twice', actual: 'different' }];
        if (mism.length > 0) {
            bad++;
            console.log(`seed ${s}:`);
            for (const m of mism) console.log('  ' + formatMismatch(m));
        }
    }
    console.log(`yjs_gen --selfcheck: ${seeds} seeds, ${bad} not reproducible`);
    return bad === 0;
}

function usage(msg) {
    if (msg) console.error(`yjs_gen: ${msg}`);
    console.error(
        'usage: yjs_gen.mjs --seed N [--features LIST] [--out FILE]\n' +
            '       yjs_gen.mjs --check FILE_OR_DIR...\n' +
            '       yjs_gen.mjs --selfcheck [--seeds N] [--start S] [--features LIST]'
    );
    process.exit(2);
}

function main(argv) {
    const o = { seed: null, out: null, features: 'all', check: null, selfcheck: false, seeds: 100, start: 0 };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const int = () => {
            const v = argv[++i];
            if (!/^[0-9]+$/.test(v ?? '')) usage(`${a} needs a non-negative integer`);
            return Number(v);
        };
        if (a === '--seed') o.seed = int();
        else if (a === '--seeds') o.seeds = int();
        else if (a === '--start') o.start = int();
        else if (a === '--out') o.out = argv[++i];
        else if (a === '--features') o.features = argv[++i];
        else if (a === '--check') o.check = argv.slice(i + 1), (i = argv.length);
        else if (a === '--selfcheck') o.selfcheck = true;
        else usage(`unknown argument ${a}`);
    }
    let features;
    try {
        features = parseFeatures(o.features);
    } catch (e) {
        usage(e.message);
    }
    if (o.check) {
        if (o.check.length === 0) usage('--check needs files or folders');
        process.exit(checkVectors(o.check) ? 0 : 1);
    }
    if (o.selfcheck) process.exit(selfCheck(o.start, o.seeds, features) ? 0 : 1);
    if (o.seed === null) usage('--seed is required');
    const text = JSON.stringify(generateYjsScenario(o.seed, features), null, 1) + '\n';
    if (o.out) writeFileSync(o.out, text);
    else process.stdout.write(text);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    main(process.argv.slice(2));
}
