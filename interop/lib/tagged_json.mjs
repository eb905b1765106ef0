// Tagged JSON (docs/scenarios.md, shared/vectors/yjs/README.md).
//
// JSON cannot hold `undefined`, NaN, ±Infinity or -0. Scenario files and
// `--tagged` outputs write them as tag objects, i.e. objects whose keys are
// EXACTLY `$type` plus the listed fields:
//
//   {"$type":"undefined"}
//   {"$type":"number","value":"NaN"|"Infinity"|"-Infinity"|"-0"}
//   {"$type":"bigint","value":"<decimal>"}        (not used by partitions yet)
//   {"$type":"bytes","base64":"..."}              (Uint8Array; not used yet)
//
// This module has three parts:
//   decodeTagged(value)       tagged JSON value -> real JS value
//   writeJson(value, tagged)  a hand-written JSON.stringify (deterministic,
//                             JS property order), optionally tagged
//   parseOrdered / canonical  an order-preserving JSON parser used to compare
//                             outputs of two implementations

// ---------------------------------------------------------------------------
// Decoding

const NUMBER_TAGS = new Map([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['-0', -0],
]);

function hasExactKeys(obj, keys) {
    const own = Object.keys(obj);
    return own.length === keys.length && keys.every((k) => own.includes(k));
}

/**
 * Returns `value` with every tag object replaced by the JS value it stands
 * for. Arrays and objects are rebuilt (the input is not modified); key order
 * is kept. A tag-like object with an unknown $type or wrong fields is left as
 * an ordinary object.
 */
export function decodeTagged(value) {
    if (Array.isArray(value)) {
        return value.map(decodeTagged);
    }
    if (value === null || typeof value !== 'object') {
        return value;
    }
    if (typeof value.$type === 'string') {
        const t = value.$type;
        if (t === 'undefined' && hasExactKeys(value, ['$type'])) {
            return undefined;
        }
        if (
            t === 'number' &&
            hasExactKeys(value, ['$type', 'value']) &&
            NUMBER_TAGS.has(value.value)
        ) {
            return NUMBER_TAGS.get(value.value);
        }
        if (
            t === 'bigint' &&
            hasExactKeys(value, ['$type', 'value']) &&
            typeof value.value === 'string' &&
            /^-?[0-9]+$/.test(value.value)
        ) {
            return BigInt(value.value);
        }
        if (
            t === 'bytes' &&
            hasExactKeys(value, ['$type', 'base64']) &&
            typeof value.base64 === 'string'
        ) {
            return new Uint8Array(Buffer.from(value.base64, 'base64'));
        }
    }
    const out = {};
    for (const k of Object.keys(value)) {
        out[k] = decodeTagged(value[k]);
    }
    return out;
}

/** JSON.parse + decodeTagged. */
export function parseTagged(text) {
    return decodeTagged(JSON.parse(text));
}

// ---------------------------------------------------------------------------
// Writing

const TAG_UNDEFINED = '{"$type":"undefined"}';

function numberTag(n) {
    if (Number.isNaN(n)) return '{"$type":"number","value":"NaN"}';
    if (n === Infinity) return '{"$type":"number","value":"Infinity"}';
    if (n === -Infinity) return '{"$type":"number","value":"-Infinity"}';
    if (Object.is(n, -0)) return '{"$type":"number","value":"-0"}';
    return null;
}

/**
 * Serialises `value` like JSON.stringify(value) (no indentation), but by
 * hand so that the rules are explicit:
 *
 * - object keys in JS property order (Object.keys), toJSON() honoured;
 * - strings escaped exactly as JSON.stringify escapes them;
 * - untagged: non-finite numbers -> null, -0 -> 0, `undefined`/function/
 *   symbol properties dropped, such array items -> null;
 * - tagged: NaN/±Infinity/-0 -> number tags, `undefined` property values and
 *   array items -> {"$type":"undefined"}, bigint -> bigint tag, Uint8Array ->
 *   bytes tag (functions and symbols are still dropped).
 *
 * A top-level value that JSON.stringify would not write (undefined) is
 * written as `null` (untagged) or the undefined tag (tagged).
 */
export function writeJson(value, tagged = false) {
    const out = [];
    const stack = new Set();

    function write(v, inArray) {
        if (v !== null && typeof v === 'object' && typeof v.toJSON === 'function') {
            v = v.toJSON();
        }
        switch (typeof v) {
            case 'string':
                out.push(JSON.stringify(v));
                return true;
            case 'number': {
                if (Number.isFinite(v) && !Object.is(v, -0)) {
                    out.push(String(v));
                } else if (tagged) {
                    out.push(numberTag(v));
                } else {
                    out.push(Number.isFinite(v) ? '0' : 'null');
                }
                return true;
            }
            case 'boolean':
                out.push(v ? 'true' : 'false');
                return true;
            case 'bigint':
                if (!tagged) {
                    throw new TypeError('Do not know how to serialize a BigInt');
                }
                out.push(`{"$type":"bigint","value":${JSON.stringify(v.toString())}}`);
                return true;
            case 'undefined':
                if (tagged) {
                    out.push(TAG_UNDEFINED);
                    return true;
                }
                if (inArray) {
                    out.push('null');
                    return true;
                }
                return false;
            case 'function':
            case 'symbol':
                if (inArray) {
                    out.push('null');
                    return true;
                }
                return false;
        }
        if (v === null) {
            out.push('null');
            return true;
        }
        if (tagged && v instanceof Uint8Array) {
            out.push(
                `{"$type":"bytes","base64":${JSON.stringify(Buffer.from(v).toString('base64'))}}`
            );
            return true;
        }
        if (stack.has(v)) {
            throw new TypeError('Converting circular structure to JSON');
        }
        stack.add(v);
        if (Array.isArray(v)) {
            out.push('[');
            for (let i = 0; i < v.length; i++) {
                if (i > 0) out.push(',');
                write(v[i], true);
            }
            out.push(']');
        } else {
            out.push('{');
            let first = true;
            for (const k of Object.keys(v)) {
                const mark = out.length;
                out.push(first ? '' : ',', JSON.stringify(k), ':');
                if (write(v[k], false)) {
                    first = false;
                } else {
                    out.length = mark;
                }
            }
            out.push('}');
        }
        stack.delete(v);
        return true;
    }

    if (!write(value, false)) {
        out.push(tagged ? TAG_UNDEFINED : 'null');
    }
    return out.join('');
}

// ---------------------------------------------------------------------------
// Order-preserving parsing and canonical form (for comparing outputs)

/** An object as a list of [key, value] entries, in file order. */
export class OrderedObject {
    constructor(entries) {
        this.entries = entries;
    }
    get(key) {
        const e = this.entries.find(([k]) => k === key);
        return e ? e[1] : undefined;
    }
    has(key) {
        return this.entries.some(([k]) => k === key);
    }
}

/** A number, kept as its canonical text (JS Number::toString; -0 stays "-0"). */
export class OrderedNumber {
    constructor(text) {
        const n = Number(text);
        this.text = Object.is(n, -0) ? '-0' : String(n);
    }
}

/**
 * Parses JSON text without losing anything JSON.parse loses: object key
 * order (JSON.parse moves integer-like keys first) and duplicate keys.
 * Throws SyntaxError on invalid JSON.
 */
export function parseOrdered(text) {
    // Validate with the real parser first: it gives good error messages and
    // guarantees the hand-written scanner below only sees valid JSON.
    JSON.parse(text);
    let i = 0;
    const ws = () => {
        while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
    };
    function value() {
        ws();
        const c = text[i];
        if (c === '{') {
            i++;
            const entries = [];
            ws();
            if (text[i] === '}') {
                i++;
                return new OrderedObject(entries);
            }
            for (;;) {
                ws();
                const k = string();
                ws();
                i++; // ':'
                entries.push([k, value()]);
                ws();
                if (text[i++] === '}') return new OrderedObject(entries);
            }
        }
        if (c === '[') {
            i++;
            const items = [];
            ws();
            if (text[i] === ']') {
                i++;
                return items;
            }
            for (;;) {
                items.push(value());
                ws();
                if (text[i++] === ']') return items;
            }
        }
        if (c === '"') return string();
        if (text.startsWith('true', i)) {
            i += 4;
            return true;
        }
        if (text.startsWith('false', i)) {
            i += 5;
            return false;
        }
        if (text.startsWith('null', i)) {
            i += 4;
            return null;
        }
        const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
        i += m[0].length;
        return new OrderedNumber(m[0]);
    }
    function string() {
        const start = i;
        i++;
        while (text[i] !== '"') {
            i += text[i] === '\\' ? 2 : 1;
        }
        i++;
        return JSON.parse(text.slice(start, i));
    }
    const v = value();
    return v;
}

/** Canonical compact text of a parseOrdered() value. */
export function canonical(v) {
    if (v === null) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'string') return JSON.stringify(v);
    if (v instanceof OrderedNumber) return v.text;
    if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
    return (
        '{' + v.entries.map(([k, x]) => JSON.stringify(k) + ':' + canonical(x)).join(',') + '}'
    );
}

/** Pretty text of a parseOrdered() value (2-space indent), for reports. */
export function pretty(v, indent = '') {
    const next = indent + '  ';
    if (Array.isArray(v)) {
        if (v.length === 0) return '[]';
        return '[\n' + v.map((x) => next + pretty(x, next)).join(',\n') + '\n' + indent + ']';
    }
    if (v instanceof OrderedObject) {
        if (v.entries.length === 0) return '{}';
        return (
            '{\n' +
            v.entries.map(([k, x]) => next + JSON.stringify(k) + ': ' + pretty(x, next)).join(',\n') +
            '\n' +
            indent +
            '}'
        );
    }
    return canonical(v);
}

/**
 * Finds the first difference between two parseOrdered() values.
 * Returns null when equal, else {path, a, b, why}.
 */
export function firstDifference(a, b, path = '') {
    if (Array.isArray(a) && Array.isArray(b)) {
        const n = Math.min(a.length, b.length);
        for (let i = 0; i < n; i++) {
            const d = firstDifference(a[i], b[i], `${path}[${i}]`);
            if (d) return d;
        }
        if (a.length !== b.length) {
            return { path, a, b, why: `array length ${a.length} vs ${b.length}` };
        }
        return null;
    }
    if (a instanceof OrderedObject && b instanceof OrderedObject) {
        const ka = a.entries.map(([k]) => k);
        const kb = b.entries.map(([k]) => k);
        const n = Math.min(ka.length, kb.length);
        for (let i = 0; i < n; i++) {
            if (ka[i] !== kb[i]) {
                return {
                    path,
                    a,
                    b,
                    why: `key order/set differs: [${ka.map((k) => JSON.stringify(k))}] vs [${kb.map((k) => JSON.stringify(k))}]`,
                };
            }
            const d = firstDifference(a.entries[i][1], b.entries[i][1], `${path}.${formatKey(ka[i])}`);
            if (d) return d;
        }
        if (ka.length !== kb.length) {
            return {
                path,
                a,
                b,
                why: `keys differ: [${ka.map((k) => JSON.stringify(k))}] vs [${kb.map((k) => JSON.stringify(k))}]`,
            };
        }
        return null;
    }
    if (canonical(a) === canonical(b)) return null;
    return { path, a, b, why: 'values differ' };
}

function formatKey(k) {
    return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : `[${JSON.stringify(k)}]`;
}
