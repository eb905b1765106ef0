// Executes the operation language of the golden Yjs vectors
// (shared/vectors/yjs/README.md) against the real yjs and records what it
// produced, in the vector file format.
//
// This is the reference side of the yjs differential test: yjs_gen.mjs builds
// random scenarios step by step through a YjsRunner, and `yjs_gen.mjs --check
// FILE...` replays the golden vectors through it to show that the runner
// reproduces shared/vectors/yjs/generate.mjs byte for byte.
//
// The yjs imported here is interop/node_modules/yjs, pinned to 13.6.27 (with
// its own lib0 0.2.120), the version that produced the golden vectors. (The
// aux-common bundle in dist/ uses aux-common's own yjs 13.6.8; it is not used
// here.)

import { createRequire } from 'node:module';
import * as Y from 'yjs';

const require = createRequire(import.meta.url);

/** The yjs version this runner drives; the vectors name 13.6.27. */
export const YJS_VERSION = require('yjs/package.json').version;
if (YJS_VERSION !== '13.6.27') {
    throw new Error(`interop: expected yjs 13.6.27, found ${YJS_VERSION}`);
}

export { Y };

export const b64 = (u8) => Buffer.from(u8).toString('base64');
export const unb64 = (s) => new Uint8Array(Buffer.from(s, 'base64'));

/** Type name as written in events and `ytype` tags. */
export function kindOf(t) {
    if (t instanceof Y.XmlText) return 'YXmlText';
    if (t instanceof Y.XmlHook) return 'YXmlHook';
    if (t instanceof Y.XmlElement) return 'YXmlElement';
    if (t instanceof Y.XmlFragment) return 'YXmlFragment';
    if (t instanceof Y.Text) return 'YText';
    if (t instanceof Y.Map) return 'YMap';
    if (t instanceof Y.Array) return 'YArray';
    return 'AbstractType';
}

/** A yjs output value -> tagged JSON (README "Values"). */
export function toTagged(v) {
    if (v === undefined) return { $type: 'undefined' };
    if (v === null) return null;
    switch (typeof v) {
        case 'string':
        case 'boolean':
            return v;
        case 'number':
            if (Number.isNaN(v)) return { $type: 'number', value: 'NaN' };
            if (v === Infinity) return { $type: 'number', value: 'Infinity' };
            if (v === -Infinity) return { $type: 'number', value: '-Infinity' };
            if (Object.is(v, -0)) return { $type: 'number', value: '-0' };
            return v;
        case 'bigint':
            return { $type: 'bigint', value: v.toString() };
        case 'object': {
            if (v instanceof Uint8Array) return { $type: 'bytes', base64: b64(v) };
            if (Array.isArray(v)) return v.map(toTagged);
            if (v instanceof Y.AbstractType) {
                return { $type: 'ytype', kind: kindOf(v), json: toTagged(v.toJSON()) };
            }
            if (v instanceof Y.Doc) return { $type: 'ydoc', guid: v.guid };
            const o = {};
            for (const k of Object.keys(v)) o[k] = toTagged(v[k]);
            return o;
        }
        default:
            throw new Error(`cannot tag a value of type ${typeof v}`);
    }
}

const NUMBER_TAGS = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

/** Tagged JSON -> the JS value handed to yjs (new preliminary types included). */
export function fromTagged(v) {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(fromTagged);
    if (Object.prototype.hasOwnProperty.call(v, '$type')) {
        switch (v.$type) {
            case 'undefined':
                return undefined;
            case 'number':
                if (!(v.value in NUMBER_TAGS)) throw new Error(`bad number tag ${v.value}`);
                return NUMBER_TAGS[v.value];
            case 'bigint':
                return BigInt(v.value);
            case 'bytes':
                return unb64(v.base64);
            case 'ymap':
                return new Y.Map((v.entries ?? []).map(([k, x]) => [k, fromTagged(x)]));
            case 'yarray':
                return Y.Array.from((v.items ?? []).map(fromTagged));
            case 'ytext':
                return v.text === undefined ? new Y.Text() : new Y.Text(v.text);
            case 'yxmlfragment':
                return new Y.XmlFragment();
            case 'yxmlelement':
                return new Y.XmlElement(v.nodeName);
            case 'yxmltext':
                return v.text === undefined ? new Y.XmlText() : new Y.XmlText(v.text);
            case 'yxmlhook':
                return new Y.XmlHook(v.hookName);
            case 'ydoc':
                return new Y.Doc({ guid: v.guid, ...(v.opts ?? {}) });
            default:
                throw new Error(`unknown $type ${v.$type}`);
        }
    }
    const o = {};
    for (const k of Object.keys(v)) o[k] = fromTagged(v[k]);
    return o;
}

/** doc.getX(name) for a root kind of the vector format. */
export function getRoot(doc, name, kind) {
    switch (kind) {
        case 'map':
            return doc.getMap(name);
        case 'array':
            return doc.getArray(name);
        case 'text':
            return doc.getText(name);
        case 'xmlFragment':
            return doc.getXmlFragment(name);
        case 'xmlElement':
            return doc.getXmlElement(name);
        default:
            throw new Error(`unknown root kind ${kind}`);
    }
}

/** Deep-observer event -> the vector's event description. */
export function describeEvent(e) {
    const out = { path: e.path, target: kindOf(e.target) };
    if (e.target instanceof Y.Map || e.target instanceof Y.XmlElement || e.target instanceof Y.Text) {
        const keys = {};
        for (const [k, ch] of e.keys) {
            keys[k] = ch.action === 'add' ? { action: 'add' } : { action: ch.action, oldValue: toTagged(ch.oldValue) };
        }
        if (Object.keys(keys).length > 0 || e.target instanceof Y.Map) out.keys = keys;
    }
    if (e.target instanceof Y.Text) {
        out.delta = e.delta.map(toTagged);
    } else if (e.target instanceof Y.Array || e.target instanceof Y.XmlFragment) {
        out.delta = e.changes.delta.map(toTagged);
    }
    return out;
}

/**
 * Runs one vector (`{docs, roots, observe, converged, steps}`) step by step.
 *
 *   const r = new YjsRunner(header);
 *   const withExpect = r.step(op);      // executes op, returns {...op, expect?}
 *   const final = r.final();            // the vector's `final` object
 *
 * Update ids: every update emitted by a document gets `<doc>.<n>`; ops with
 * an `as` field register their result under that id (README "Update ids").
 */
export class YjsRunner {
    constructor({ docs, roots = [], observe = false }) {
        this.roots = roots;
        this.rootKinds = new Map(roots.map((r) => [r.name, r.kind]));
        this.observe = observe;
        this.docs = new Map();
        this.docOrder = [];
        this.updates = new Map(); // id -> {v1, v2}
        this.relpos = new Map(); // id -> encoded relative position
        this.emittedCount = new Map();
        this.capture = null;
        for (const d of docs) this.addDoc(d);
    }

    addDoc({ name, clientID, gc = true }) {
        const doc = new Y.Doc({ gc, guid: `doc-${name}` });
        doc.clientID = clientID;
        this.docs.set(name, doc);
        this.docOrder.push(name);
        this.emittedCount.set(name, 0);
        // yjs fires 'update' (v1) then 'updateV2' for the same transaction.
        const v1Queue = [];
        doc.on('update', (u, _origin, _d, tr) => v1Queue.push({ v1: u, local: tr.local }));
        doc.on('updateV2', (u) => {
            const first = v1Queue.shift();
            const n = this.emittedCount.get(name);
            this.emittedCount.set(name, n + 1);
            const id = `${name}.${n}`;
            this.updates.set(id, { v1: first.v1, v2: u });
            if (this.capture) {
                this.capture.emitted.push({ id, doc: name, local: first.local, v1: b64(first.v1), v2: b64(u) });
            }
        });
        for (const r of this.roots) {
            const root = getRoot(doc, r.name, r.kind);
            if (this.observe) {
                root.observeDeep((events, tr) => {
                    if (!this.capture) return;
                    this.capture.events.push({
                        doc: name,
                        root: r.name,
                        local: tr.local,
                        events: events.map(describeEvent),
                    });
                });
            }
        }
    }

    doc(name) {
        const d = this.docs.get(name);
        if (!d) throw new Error(`unknown doc ${name}`);
        return d;
    }

    /** The shared type a `target` names in `doc` (throws if it is not one). */
    resolve(doc, target) {
        const kind = target.kind ?? this.rootKinds.get(target.root);
        let t = getRoot(doc, target.root, kind);
        for (const p of target.path ?? []) {
            const next = t.get(p);
            if (!(next instanceof Y.AbstractType)) {
                throw new Error(`path element ${JSON.stringify(p)} does not resolve to a shared type`);
            }
            t = next;
        }
        return t;
    }

    update(id) {
        const u = this.updates.get(id);
        if (!u) throw new Error(`unknown update ${id}`);
        return u;
    }

    register(id, v1, v2) {
        if (id === undefined) return;
        if (this.updates.has(id)) throw new Error(`duplicate update id ${id}`);
        this.updates.set(id, { v1, v2 });
    }

    targetStateVector(op) {
        if (op.targetStateVectorOf !== undefined) return Y.encodeStateVector(this.doc(op.targetStateVectorOf));
        if (op.targetStateVector !== undefined) return unb64(op.targetStateVector);
        return undefined;
    }

    /** Starts capturing the emitted updates and events of one step. */
    beginStep() {
        this.capture = { emitted: [], events: [] };
        return {};
    }

    /** Ends the capture; returns `op` with `expect` (absent when empty). */
    endStep(op, result) {
        const expect = { ...result };
        if (this.capture.emitted.length > 0) expect.emitted = this.capture.emitted;
        if (this.capture.events.length > 0) expect.events = this.capture.events;
        this.capture = null;
        return Object.keys(expect).length > 0 ? { ...op, expect } : { ...op };
    }

    /** Executes one step and returns it with its `expect`. */
    step(op) {
        const result = this.beginStep();
        try {
            this.exec(op, undefined, result);
        } catch (e) {
            this.capture = null;
            throw e;
        }
        return this.endStep(op, result);
    }

    /** Executes `op`; `docName` is the acting doc inherited inside `transact`. */
    exec(op, docName, result) {
        const dn = op.doc ?? docName;
        const target = () => this.resolve(this.doc(dn), op.target);
        switch (op.op) {
            case 'map.set':
                target().set(op.key, fromTagged(op.value));
                break;
            case 'map.delete':
                target().delete(op.key);
                break;
            case 'text.insert':
                if (op.attributes !== undefined) target().insert(op.index, op.text, fromTagged(op.attributes));
                else target().insert(op.index, op.text);
                break;
            case 'text.insertEmbed':
                if (op.attributes !== undefined) {
                    target().insertEmbed(op.index, fromTagged(op.embed), fromTagged(op.attributes));
                } else {
                    target().insertEmbed(op.index, fromTagged(op.embed));
                }
                break;
            case 'text.delete':
            case 'array.delete':
                target().delete(op.index, op.length);
                break;
            case 'text.format':
                target().format(op.index, op.length, fromTagged(op.attributes));
                break;
            case 'array.insert':
                target().insert(op.index, op.values.map(fromTagged));
                break;
            case 'array.push':
                target().push(op.values.map(fromTagged));
                break;
            case 'xml.setAttribute':
                target().setAttribute(op.name, fromTagged(op.value));
                break;
            case 'transact':
                this.doc(dn).transact(() => {
                    for (const sub of op.ops) this.exec(sub, dn, result);
                });
                break;
            case 'setClientID':
                this.doc(dn).clientID = op.clientID;
                break;
            case 'sync': {
                const from = this.doc(op.from);
                const to = this.doc(op.to);
                const sv = Y.encodeStateVector(to);
                const u = Y.encodeStateAsUpdate(from, sv);
                result.stateVector = b64(sv);
                result.update = b64(u);
                this.register(op.as, u, Y.encodeStateAsUpdateV2(from, sv));
                Y.applyUpdate(to, u);
                break;
            }
            case 'syncV2': {
                const from = this.doc(op.from);
                const to = this.doc(op.to);
                const sv = Y.encodeStateVector(to);
                const u2 = Y.encodeStateAsUpdateV2(from, sv);
                result.stateVector = b64(sv);
                result.updateV2 = b64(u2);
                Y.applyUpdateV2(to, u2);
                break;
            }
            case 'apply': {
                const to = this.doc(op.to);
                const v2 = op.format === 'v2';
                let bytes;
                if (op.bytes !== undefined) bytes = unb64(op.bytes);
                else bytes = v2 ? this.update(op.update).v2 : this.update(op.update).v1;
                if (v2) Y.applyUpdateV2(to, bytes);
                else Y.applyUpdate(to, bytes);
                break;
            }
            case 'encodeStateAsUpdate': {
                const d = this.doc(dn);
                const sv = this.targetStateVector(op);
                const v1 = Y.encodeStateAsUpdate(d, sv);
                const v2 = Y.encodeStateAsUpdateV2(d, sv);
                if (sv !== undefined) result.targetStateVector = b64(sv);
                result.v1 = b64(v1);
                result.v2 = b64(v2);
                this.register(op.as, v1, v2);
                break;
            }
            case 'encodeStateVector':
                result.stateVector = b64(Y.encodeStateVector(this.doc(dn)));
                break;
            case 'mergeUpdates': {
                const us = op.updates.map((id) => this.update(id));
                const v1 = Y.mergeUpdates(us.map((u) => u.v1));
                const v2 = Y.mergeUpdatesV2(us.map((u) => u.v2));
                result.v1 = b64(v1);
                result.v2 = b64(v2);
                this.register(op.as, v1, v2);
                break;
            }
            case 'diffUpdate': {
                const u = this.update(op.update);
                const sv = this.targetStateVector(op);
                const v1 = Y.diffUpdate(u.v1, sv);
                const v2 = Y.diffUpdateV2(u.v2, sv);
                result.targetStateVector = b64(sv);
                result.v1 = b64(v1);
                result.v2 = b64(v2);
                this.register(op.as, v1, v2);
                break;
            }
            case 'convertUpdateFormat': {
                const u = this.update(op.update);
                result.v1ToV2 = b64(Y.convertUpdateFormatV1ToV2(u.v1));
                result.v2ToV1 = b64(Y.convertUpdateFormatV2ToV1(u.v2));
                break;
            }
            case 'encodeStateVectorFromUpdate': {
                const u = this.update(op.update);
                const a = b64(Y.encodeStateVectorFromUpdate(u.v1));
                const b = b64(Y.encodeStateVectorFromUpdateV2(u.v2));
                if (a !== b) throw new Error('v1 and v2 state vectors from update differ');
                result.stateVector = a;
                break;
            }
            case 'relpos.create': {
                const rp = Y.createRelativePositionFromTypeIndex(target(), op.index, op.assoc ?? 0);
                const encoded = Y.encodeRelativePosition(rp);
                result.encoded = b64(encoded);
                result.json = JSON.parse(JSON.stringify(Y.relativePositionToJSON(rp)));
                if (op.as !== undefined) this.relpos.set(op.as, encoded);
                break;
            }
            case 'relpos.resolve': {
                const d = this.doc(dn);
                const bytes = op.encoded !== undefined ? unb64(op.encoded) : this.relpos.get(op.relpos);
                if (bytes === undefined) throw new Error(`unknown relative position ${op.relpos}`);
                const abs = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(bytes), d);
                if (abs === null) {
                    result.absolute = null;
                } else {
                    result.absolute = { index: abs.index, assoc: abs.assoc };
                    if (op.target !== undefined) result.absolute.typeMatchesTarget = abs.type === target();
                }
                break;
            }
            default:
                throw new Error(`unknown op ${op.op}`);
        }
    }

    /** The vector's `final` object (README "Final state"). */
    final() {
        const final = {};
        for (const name of this.docOrder) {
            const doc = this.docs.get(name);
            const json = {};
            const textDeltas = {};
            for (const r of this.roots) {
                const root = getRoot(doc, r.name, r.kind);
                json[r.name] = toTagged(root.toJSON());
                if (r.kind === 'text') textDeltas[r.name] = toTagged(root.toDelta());
            }
            final[name] = {
                clientID: doc.clientID,
                stateVector: b64(Y.encodeStateVector(doc)),
                update: b64(Y.encodeStateAsUpdate(doc)),
                updateV2: b64(Y.encodeStateAsUpdateV2(doc)),
                json,
                textDeltas,
                pendingStructs: doc.store.pendingStructs !== null,
                pendingDeletes: doc.store.pendingDs !== null,
            };
        }
        return final;
    }
}

/**
 * JSON text with object keys sorted at every level: map JSON and event keys
 * depend on integration order (README: compare as unordered).
 */
export function sortedJson(v) {
    return JSON.stringify(v, (_k, x) =>
        x && typeof x === 'object' && !Array.isArray(x)
            ? Object.fromEntries(Object.keys(x).sort().map((key) => [key, x[key]]))
            : x
    );
}

/** Replays a whole vector; returns it in the generator's output format. */
export function runVector(vector) {
    const runner = new YjsRunner(vector);
    const steps = vector.steps.map((s) => {
        const { expect: _ignored, ...op } = s;
        return runner.step(op);
    });
    return {
        name: vector.name,
        description: vector.description,
        yjsVersion: YJS_VERSION,
        docs: vector.docs.map((d) => ({ name: d.name, clientID: d.clientID, gc: d.gc ?? true })),
        roots: vector.roots ?? [],
        observe: !!vector.observe,
        converged: !!(vector.converged ?? vector.converge),
        steps,
        final: runner.final(),
    };
}
