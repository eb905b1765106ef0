#!/usr/bin/env node
// Seeded generator of random MemoryPartition scenarios (docs/scenarios.md).
//
//   node gen_memory_scenario.mjs --seed N [--bmp-only] [--compact]
//
// As a module: generateMemoryScenario(seed, {bmpOnly}) -> a scenario object in
// tagged-JSON form (write it with JSON.stringify; undefined, NaN, ±Infinity and
// -0 appear as tag objects).
//
// Deterministic: the only randomness is a mulberry32 PRNG seeded from N.
// Site ids are fixed (localSiteId "L", remoteSiteId "R") so versions are too.
//
// What it covers: 1–12 applyEvents batches of 1–6 actions over a small pool
// of bot ids (integer-like "0"/"2"/"10", "zz", "a:b", ...); add_bot (fresh,
// re-add, with a foreign `space`, with masks, with signatures, action id !=
// bot.id), remove_bot (existing and missing ids), update_bot (tags, empty
// update, `{tags:{}}`, masks for the partition's space, rarely other spaces,
// tag and mask edits with one or several sequences, isRemote), apply_state
// (full bots, partial bots, mask-only partials, null); every tag value kind
// (see VALUE_MAKERS); a non-empty initialState sometimes; `space` absent
// sometimes (then masks are keyed "undefined" sometimes, as upstream looks up
// masks[undefined]). Rarely a sendRemoteEvents step (memory: returned null)
// and a wait step.
//
// --bmp-only: no characters outside the BMP anywhere (no emoji), so random
// edit positions never split a surrogate pair. By default they can, and the
// partition then stores strings with lone surrogates (JSON writes them as
// \udXXX escapes).

import { fileURLToPath } from 'node:url';
import { mulberry32 } from './lib/rng.mjs';

const TAG_EDIT_KEY = '\u0011tag_edit';
const U = () => ({ $type: 'undefined' });
const N = (v) => ({ $type: 'number', value: v });

/** mulberry32, seeded through a splitmix-style scramble of the seed. */
export function makeRng(seed) {
    let h = (Number(seed) >>> 0) ^ 0x9e3779b9;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    const next = mulberry32(h ^ (h >>> 16));
    const rng = {
        next,
        int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
        chance: (p) => next() < p,
        pick: (arr) => arr[Math.floor(next() * arr.length)],
        // Distinct items, in pool order shuffled.
        sample(arr, n) {
            const copy = arr.slice();
            for (let i = copy.length - 1; i > 0; i--) {
                const j = Math.floor(next() * (i + 1));
                [copy[i], copy[j]] = [copy[j], copy[i]];
            }
            return copy.slice(0, n);
        },
        weighted(entries) {
            // entries: [[weight, value], ...]
            const total = entries.reduce((s, [w]) => s + w, 0);
            let r = next() * total;
            for (const [w, v] of entries) {
                if ((r -= w) < 0) return v;
            }
            return entries[entries.length - 1][1];
        },
    };
    return rng;
}

const BOT_ID_POOL = ['b', 'c', 'zz', '2', '10', '0', 'a:b', 'x y', 'ü'];
const TAG_POOL = ['a', 'c', 'abc', 'color', '2', '10', '0', 'n:m', '😀t'];
const SPACES = ['shared', 'tempLocal', 'sp', 'local'];
const OTHER_SPACES = ['other', 'tempShared', 'local', 'admin'];

const STRINGS = [
    '',
    ' ',
    'abc',
    'def',
    'hello world',
    'héllo',
    '日本語',
    '😀',
    'a😀b',
    '🎉🎉',
    '\n\t"\\',
    '\u0011tag_edit',
    '0',
    'null',
    'true',
    '@onClick',
    '🔗bot',
    'x'.repeat(40),
];

const INSERT_TEXTS = ['x', 'ab', 'ghi', '123', ' ', 'é', '日', '😀', 'a😀', '\n', 'long insert text'];

function stripAstral(s) {
    return s.replace(/[\u{10000}-\u{10FFFF}]/gu, 'Z');
}

function makeGenerator(rng, { bmpOnly = false } = {}) {
    const str = (s) => (bmpOnly ? stripAstral(s) : s);

    const number = () =>
        rng.pick([
            () => 0,
            () => N('-0'),
            () => 1,
            () => -1,
            () => 42,
            () => 123,
            () => 3.14,
            () => -2.5,
            () => 1e21,
            () => 1.5e-7,
            () => 0.1 + 0.2,
            () => 2 ** 53,
            () => 123456789012,
            () => 5e-324,
            () => 1.7976931348623157e308,
            () => 1e-6,
            () => 1e20,
            () => N('NaN'),
            () => N('Infinity'),
            () => N('-Infinity'),
            () => rng.int(-1000, 1000),
            () => rng.int(-1e6, 1e6) / 1000,
        ])();

    const object = (depth) =>
        rng.pick([
            () => ({}),
            () => ({ a: 1 }),
            () => ({ prop: str('yes') }),
            () => ({ cqtag_edit: true }),
            () => ({ nested: { x: [1, 2, { y: null }], z: { w: 'deep' } } }),
            () => ({ zz: 1, 10: 2, 2: 3, a: 4 }),
            () => ({ u: U(), k: 1 }),
            () => ({ n: N('NaN'), m: N('-0'), i: N('-Infinity') }),
            () => ({ [TAG_EDIT_KEY]: false, version: {} }),
            () => ({ $type: 'x', value: 1 }),
            () => (depth < 2 ? { v: value(depth + 1), w: value(depth + 1) } : { leaf: true }),
        ])();

    const array = (depth) =>
        rng.pick([
            () => [],
            () => [1, 'a', null],
            () => [[1], [2, [3]]],
            () => [U(), N('NaN'), 0],
            () => [{ a: 1 }, {}],
            () => (depth < 2 ? [value(depth + 1), value(depth + 1)] : [true]),
        ])();

    // Every tag value kind.
    const VALUE_MAKERS = [
        [6, () => str(rng.pick(STRINGS))],
        [6, () => number()],
        [2, () => rng.chance(0.5)],
        [2, () => null],
        [1, () => U()],
        [3, (d) => object(d)],
        [2, (d) => array(d)],
    ];
    function value(depth = 0) {
        return rng.weighted(VALUE_MAKERS)(depth);
    }

    function versionVector() {
        return rng.pick([
            () => ({}),
            () => ({ L: rng.int(0, 5) }),
            () => ({ R: rng.int(0, 5), x: 3 }),
            () => ({ L: 1, R: 2 }),
        ])();
    }

    function op() {
        return rng.weighted([
            [4, () => ({ type: 'preserve', count: rng.pick([0, 1, 2, 3, 5, 8, 20]) })],
            [5, () => ({ type: 'insert', text: str(rng.pick(INSERT_TEXTS)) })],
            [3, () => ({ type: 'delete', count: rng.pick([0, 1, 1, 2, 3, 10]) })],
            [0.15, () => ({ type: 'delete', count: -1 })],
            [0.15, () => ({ type: 'insert', text: '' })],
        ])();
    }

    function tagEdit() {
        const nseq = rng.weighted([
            [8, 1],
            [3, 2],
            [1, 3],
        ]);
        const operations = [];
        for (let i = 0; i < nseq; i++) {
            const seq = [];
            const nops = rng.int(1, 3);
            for (let j = 0; j < nops; j++) seq.push(op());
            operations.push(seq);
        }
        const e = { [TAG_EDIT_KEY]: true, version: versionVector(), operations };
        if (rng.chance(0.2)) e.isRemote = true;
        else if (rng.chance(0.05)) e.isRemote = false;
        return e;
    }

    // A value for an update: plain values, deletions and edits.
    function updateValue() {
        return rng.weighted([
            [10, () => value()],
            [5, () => tagEdit()],
            [2, () => null],
            [1, () => ''],
        ])();
    }

    return { value, updateValue, tagEdit, str };
}

/**
 * Generates the scenario for `seed`. Returns a plain object in tagged-JSON
 * form; JSON.stringify() it to get the scenario file.
 */
export function generateMemoryScenario(seed, opts = {}) {
    const rng = makeRng(seed);
    const g = makeGenerator(rng, opts);

    // Space: usually set, sometimes absent, rarely "".
    const space = rng.weighted([
        [16, () => rng.pick(SPACES)],
        [4, () => undefined],
        [0.5, () => ''],
    ])();
    // The masks key that reaches the partition's own space (upstream looks up
    // masks[this.space], i.e. the key "undefined" when no space is set).
    const ownMaskKey = space === undefined ? 'undefined' : space;

    const ids = rng.sample(BOT_ID_POOL, rng.int(2, 5));
    const tagNames = rng.sample(TAG_POOL, rng.int(2, 5));
    const pickId = () => (rng.chance(0.05) ? rng.pick(BOT_ID_POOL) : rng.pick(ids));
    const pickTag = () => g.str(rng.chance(0.05) ? rng.pick(TAG_POOL) : rng.pick(tagNames));

    function tags(min, max) {
        const t = {};
        const n = rng.int(min, max);
        for (let i = 0; i < n; i++) t[pickTag()] = g.value();
        return t;
    }

    function maskValues(allowEdits) {
        const m = {};
        const n = rng.int(1, 3);
        for (let i = 0; i < n; i++) m[pickTag()] = allowEdits ? g.updateValue() : g.value();
        return m;
    }

    // masks object for an update or a bot. `own` ~ always; other spaces rarely.
    function masks(allowEdits, { otherP = 0, ownP = 1 } = {}) {
        const m = {};
        if (rng.chance(ownP)) {
            // Occasionally use a key that is NOT the own space by mistake
            // (e.g. the "undefined" key with a space set) - ignored upstream.
            const key = rng.chance(0.04) ? rng.pick(['undefined', ...SPACES]) : ownMaskKey;
            m[key] = maskValues(allowEdits);
        }
        if (rng.chance(otherP)) {
            m[rng.pick(OTHER_SPACES)] = maskValues(allowEdits);
        }
        return m;
    }

    function fullBot(id, { otherMasks = true } = {}) {
        const bot = {};
        if (rng.chance(0.05)) bot.space = rng.pick(['history', ...SPACES]); // overwritten
        bot.id = id;
        bot.tags = tags(0, 4);
        if (rng.chance(0.08)) bot.masks = masks(false, { otherP: otherMasks ? 0.4 : 0 });
        if (rng.chance(0.04)) bot.signatures = { h1: pickTag() };
        return bot;
    }

    // A rough model of the partition, only used to keep the scenarios mostly
    // clear of the situations in which upstream throws a TypeError (spec
    // partitions.md 7.7): those end the comparison of a seed, so they are
    // generated on purpose but rarely: only in "risky" scenarios (about 1 in
    // 20), and there only now and then (RISK_P).
    //   kind: 'bot' (has a tags object) | 'noTags' (mask-only entry, {} entry,
    //   or a bot whose tags were stripped); absent ids are not in the map.
    const risky = rng.chance(0.05);
    const RISK_P = risky ? 0.15 : 0;
    const model = new Map();
    let batch; // {before, partialTagless, addedEmptyTags} of the batch being generated

    function hasTagsObject(id) {
        return model.get(id) === 'bot';
    }

    function updateTags({ edits = true } = {}) {
        const t = {};
        const n = rng.int(1, 3);
        for (let i = 0; i < n; i++) t[pickTag()] = edits ? g.updateValue() : g.value();
        return t;
    }

    function partialBot(id) {
        // Tags on an entry without a tags object throw upstream (id
        // undefined: the partial is added, not applied as an update).
        const tagsOk =
            id === undefined || !model.has(id) || hasTagsObject(id) || rng.chance(RISK_P);
        const edits = id === undefined || !batch.partialTagless.has(id) || rng.chance(RISK_P);
        return rng.weighted([
            [tagsOk ? 6 : 0, () => ({ tags: updateTags({ edits }) })],
            [tagsOk ? 2 : 0, () => ({ tags: updateTags({ edits }), masks: masks(true, { otherP: 0 }) })],
            [1, () => ({ masks: masks(false, { otherP: 0 }) })],
            [0.5, () => ({})],
        ])();
    }

    function noteAdd(id, bot) {
        model.set(id, bot.tags && typeof bot.tags === 'object' ? 'bot' : 'noTags');
        batch.partialTagless.delete(id);
        if (bot.tags && Object.keys(bot.tags).length === 0) batch.addedEmptyTags.add(id);
        else batch.addedEmptyTags.delete(id);
    }

    const isDeletion = (v) => v === null || v === '' || (v && v.$type === 'undefined');

    function noteUpdate(id, update) {
        const own = update.masks && update.masks[ownMaskKey];
        // The batch's partial entry for `id` may end up without `tags`: a
        // later tag edit of the same batch then throws upstream (lastBot.tags).
        if (update.tags && hasTagsObject(id)) {
            const vals = Object.values(update.tags);
            if (vals.length > 0 && !vals.every(isDeletion)) {
                batch.partialTagless.delete(id);
            } else if (vals.length > 0) {
                batch.partialTagless.add(id);
            }
        }
        if (own) {
            batch.partialTagless.add(id);
            if (!model.has(id)) model.set(id, 'noTags');
        }
        // An update without tags and without own masks, after the add of a
        // bot with empty tags in the same batch, strips the bot's tags.
        if (!update.tags && !own && batch.addedEmptyTags.has(id)) {
            model.set(id, 'noTags');
        }
    }

    function addBot() {
        const id = pickId();
        const bot = fullBot(id);
        const actionId = rng.chance(0.02) ? pickId() : id;
        noteAdd(id, bot);
        return { type: 'add_bot', id: actionId, bot };
    }

    function removeBot() {
        const id = pickId();
        model.delete(id);
        batch.addedEmptyTags.delete(id);
        batch.partialTagless.delete(id);
        return { type: 'remove_bot', id };
    }

    function updateBot() {
        let id = pickId();
        const tagsOk = !model.has(id) || hasTagsObject(id) || rng.chance(RISK_P);
        const edits = !batch.partialTagless.has(id) || rng.chance(RISK_P);
        // Own space plus another space throws upstream unless the entry has
        // masks for that other space.
        const otherP = risky ? 0.1 : 0;
        const update = rng.weighted([
            [tagsOk ? 10 : 0, () => ({ tags: updateTags({ edits }) })],
            [4, () => ({ masks: masks(true, { otherP }) })],
            [tagsOk ? 2 : 0, () => ({ tags: updateTags({ edits }), masks: masks(true, { otherP }) })],
            [1, () => ({})],
            [1, () => ({ tags: {} })],
            [0.5, () => ({ tags: {}, masks: masks(true, { otherP }) })],
            [0.3, () => ({ masks: {} })],
            // Masks for another space only: ignored upstream.
            [0.6, () => ({ masks: { [rng.pick(OTHER_SPACES)]: maskValues(true) } })],
            [0.3, () => ({ signatures: { h2: pickTag() } })],
        ])();
        noteUpdate(id, update);
        return { type: 'update_bot', id, update };
    }

    function applyState() {
        // Expanded upstream against the state as it was before the batch:
        // an id present then is updated (or removed), an absent one added.
        const state = {};
        const n = rng.int(1, 3);
        for (let i = 0; i < n; i++) {
            const id = pickId();
            const isUpdate = batch.before.has(id);
            // An update carrying tags needs a tags object (if the entry
            // exists now; for a missing entry the tags part is skipped).
            const tagsOk =
                !isUpdate || !model.has(id) || hasTagsObject(id) || rng.chance(RISK_P);
            const v = rng.weighted([
                [
                    tagsOk ? 4 : 0,
                    () => fullBot(id, { otherMasks: !isUpdate || rng.chance(RISK_P) }),
                ],
                [4, () => (isUpdate ? partialBot(id) : partialBot(undefined))],
                [2, () => null],
            ])();
            state[id] = v;
        }
        for (const id of Object.keys(state)) {
            const v = state[id];
            if (batch.before.has(id)) {
                if (v === null) {
                    model.delete(id);
                    batch.addedEmptyTags.delete(id);
                } else {
                    noteUpdate(id, v);
                }
            } else if (v !== null) {
                // add_bot(v): a partial bot (no id) lands under "undefined".
                noteAdd(v.id === undefined ? 'undefined' : id, v);
            }
        }
        return { type: 'apply_state', state };
    }

    function action() {
        return rng.weighted([
            [5, addBot],
            [3, removeBot],
            [9, updateBot],
            [2, applyState],
        ])();
    }

    // initialState: empty most of the time.
    const initialState = {};
    if (rng.chance(0.3)) {
        for (const id of rng.sample(ids, rng.int(1, ids.length))) {
            const bot = fullBot(id);
            delete bot.space;
            if (rng.chance(0.1)) {
                initialState[id] = { masks: { [ownMaskKey]: maskValues(false) } };
                model.set(id, 'noTags');
            } else {
                initialState[id] = bot;
                model.set(id, 'bot');
            }
        }
    }

    const steps = [];
    const nbatches = rng.int(1, 12);
    for (let b = 0; b < nbatches; b++) {
        const actions = [];
        batch = {
            before: new Set(model.keys()),
            partialTagless: new Set(),
            addedEmptyTags: new Set(),
        };
        const n = rng.int(1, 6);
        for (let i = 0; i < n; i++) actions.push(action());
        steps.push({ applyEvents: actions });
        if (rng.chance(0.03)) {
            steps.push({
                sendRemoteEvents: [
                    { type: 'remote', event: { type: 'get_remotes' }, taskId: rng.int(1, 9) },
                ],
            });
        }
        if (rng.chance(0.03)) {
            steps.push({ wait: { ms: rng.int(0, 2) } });
        }
    }

    const scenario = {
        partition: { type: 'memory', initialState, localSiteId: 'L', remoteSiteId: 'R' },
    };
    if (space !== undefined) scenario.space = space;
    scenario.steps = steps;
    return scenario;
}

function main(argv) {
    const i = argv.indexOf('--seed');
    if (i < 0 || !/^[0-9]+$/.test(argv[i + 1] ?? '')) {
        console.error('usage: gen_memory_scenario.mjs --seed N [--bmp-only] [--compact]');
        process.exit(2);
    }
    const scenario = generateMemoryScenario(Number(argv[i + 1]), {
        bmpOnly: argv.includes('--bmp-only'),
    });
    process.stdout.write(
        JSON.stringify(scenario, null, argv.includes('--compact') ? undefined : 2) + '\n'
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    main(process.argv.slice(2));
}
