// The one place where auxsync's encoding of a document deliberately differs
// from yjs's (docs/compatibility.md, "Pending structs ... whose ids the
// document has since integrated"): a document holds structs pending on a
// missing dependency, and one of them repeats an id the document has since
// deleted and collected. yjs merges the stale pending item into
// encodeStateAsUpdate in place of the document's GC struct; auxsync writes
// every id the document holds as the document holds it (the GC). The state
// is the same either way: the id is in the delete set of both encodings.
//
// isCollectedPendingDivergence(expected, actual, v2) says whether two
// encodings (base64) differ only that way. Everything else stays a mismatch:
// the delete sets must be equal, the expected encoding must carry pending
// data (a Skip struct, which only a merge of pending structs writes), and
// every difference must be an item of yjs's that the delete set covers
// where auxsync has GC structs over exactly the same clocks.

import { Y, kindOf, toTagged } from './yjs_runner.mjs';

function decode(b64, v2) {
    const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
    return v2 ? Y.decodeUpdateV2(bytes) : Y.decodeUpdate(bytes);
}

function contentKey(c) {
    switch (c.constructor.name) {
        case 'ContentType':
            return `${kindOf(c.type)} ${c.type.nodeName ?? ''}`;
        case 'ContentDeleted':
            return String(c.len);
        case 'ContentFormat':
            return JSON.stringify([c.key, toTagged(c.value)]);
        case 'ContentDoc':
            return JSON.stringify([c.doc.guid, c.opts]);
        default:
            return JSON.stringify(toTagged(c.getContent()));
    }
}

function describe(s) {
    const id = (x) => (x ? `${x.client}:${x.clock}` : '-');
    const kind = s.constructor.name;
    if (kind !== 'Item') return `${kind} ${id(s.id)}+${s.length}`;
    const parent = typeof s.parent === 'string' ? s.parent : id(s.parent);
    const c = s.content;
    return [
        'Item',
        id(s.id),
        s.length,
        id(s.origin),
        id(s.rightOrigin),
        parent,
        s.parentSub ?? '',
        c.constructor.name,
        contentKey(c),
    ].join(' ');
}

function deleteSetKey(ds) {
    return JSON.stringify(
        [...ds.clients.entries()]
            .map(([client, items]) => [client, items.map((r) => [r.clock, r.len])])
            .sort((a, b) => a[0] - b[0])
    );
}

function deleted(ds, client, clock, len) {
    // Y.decodeUpdate keeps the ranges as written (sorted and merged by the
    // encoder).
    const ranges = ds.clients.get(client) ?? [];
    let at = clock;
    for (const r of ranges) {
        if (r.clock <= at && at < r.clock + r.len) at = r.clock + r.len;
        if (at >= clock + len) return true;
    }
    return false;
}

function byClient(structs) {
    const m = new Map();
    for (const s of structs) {
        if (!m.has(s.id.client)) m.set(s.id.client, []);
        m.get(s.id.client).push(s);
    }
    return m;
}

export function isCollectedPendingDivergence(expected, actual, v2) {
    if (typeof expected !== 'string' || typeof actual !== 'string') return false;
    let e;
    let a;
    try {
        e = decode(expected, v2);
        a = decode(actual, v2);
    } catch {
        return false;
    }
    if (deleteSetKey(e.ds) !== deleteSetKey(a.ds)) return false;
    if (!e.structs.some((s) => s.constructor.name === 'Skip')) return false;
    const ec = byClient(e.structs);
    const ac = byClient(a.structs);
    if (ec.size !== ac.size) return false;
    let differences = 0;
    for (const [client, es] of ec) {
        const as = ac.get(client);
        if (as === undefined) return false;
        let i = 0;
        let j = 0;
        while (i < es.length && j < as.length) {
            if (describe(es[i]) === describe(as[j])) {
                i++;
                j++;
                continue;
            }
            // auxsync's GC struct over yjs's structs: deleted items and GCs
            // of the same clocks, end to end.
            const gc = as[j];
            if (gc.constructor.name !== 'GC' || es[i].id.clock !== gc.id.clock) return false;
            const end = gc.id.clock + gc.length;
            let at = gc.id.clock;
            while (i < es.length && at < end) {
                const s = es[i];
                const kind = s.constructor.name;
                if (s.id.clock !== at) return false;
                if (kind === 'Item') {
                    if (!deleted(e.ds, client, s.id.clock, s.length)) return false;
                    differences++;
                } else if (kind !== 'GC') {
                    return false;
                }
                at += s.length;
                i++;
            }
            if (at !== end) return false;
            j++;
        }
        if (i !== es.length || j !== as.length) return false;
    }
    return differences > 0;
}
