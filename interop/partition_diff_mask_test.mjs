#!/usr/bin/env node
// The YjsPartition differential's mask for random client ids
// (forgetRandomIds in lib/partition_diff.mjs), on outputs written by hand:
// it must make two outputs that differ only in the random ids each side drew
// compare equal, and leave every other difference standing. A mask that
// hides too much passes every seed of the differential without saying so.
//
//   node partition_diff_mask_test.mjs
//
// Exit 1 on the first failed check.

import { forgetRandomIds } from './lib/partition_diff.mjs';
import { canonical, parseOrdered } from './lib/tagged_json.mjs';

// Both sides' outputs of one step, masked, compare equal or not.
function sameAfterMask(js, cpp) {
    return canonical(forgetRandomIds(parseOrdered(js))) === canonical(forgetRandomIds(parseOrdered(cpp)));
}

// A CurrentVersion whose vector has pinned ids (5, 9999: below 10000) and
// the random ids of two throw-away documents.
const version = (vector) => `{"event":"version","currentVersion":{"currentSite":"5","vector":${vector}}}`;
// A tag edit's version names sites by id too; other "version" keys (an aux
// file's version, a bot's tag) are left alone.
const edit = (version) => `{"event":"updated","tags":{"label":{"edit":true,"version":${version}}}}`;

// [what, the JS side's output, ours, whether they must compare equal]
const cases = [
    [
        'two random ids in the same key order, same clocks',
        version('{"5":3,"123456":7,"987654":2}'),
        version('{"5":3,"234567":7,"876543":2}'),
        true,
    ],
    // Integer-like keys are ordered numerically by JS, so the side whose
    // larger id holds the smaller clock lists the clocks the other way round.
    [
        'two random ids whose clocks the key order pairs the other way round',
        version('{"5":3,"123456":7,"987654":2}'),
        version('{"5":3,"234567":2,"876543":7}'),
        true,
    ],
    [
        'a pinned id moved among the random ones is a difference',
        version('{"123456":1,"234567":1,"9999":4}'),
        version('{"9999":4,"345678":1,"456789":1}'),
        false,
    ],
    [
        'a different clock of a random id is a difference',
        version('{"5":3,"123456":7,"987654":2}'),
        version('{"5":3,"234567":7,"876543":3}'),
        false,
    ],
    [
        'a different clock of a pinned id is a difference',
        version('{"5":3,"123456":7}'),
        version('{"5":4,"234567":7}'),
        false,
    ],
    [
        'a random id more is a difference',
        version('{"5":3,"123456":7}'),
        version('{"5":3,"234567":7,"876543":1}'),
        false,
    ],
    ["a tag edit's version", edit('{"5":2,"1234567":9}'), edit('{"5":2,"7654321":9}'), true],
    ["a tag edit's different clock", edit('{"5":2,"1234567":9}'), edit('{"5":2,"7654321":8}'), false],
    [
        'a version of names that are not site ids',
        '{"tags":{"version":{"abcdef":1}}}',
        '{"tags":{"version":{"ghijkl":1}}}',
        false,
    ],
    ['an aux file version number', '{"version":2}', '{"version":1}', false],
    // The final document bytes hold the random ids: dropped (the
    // cross-load and the final state still compare the document).
    ['the final bytes', '{"final":{"update":"AQID"}}', '{"final":{"update":"BAUG"}}', true],
    ['the final state', '{"final":{"state":{"b":1}}}', '{"final":{"state":{"b":2}}}', false],
];

for (const [what, js, cpp, same] of cases) {
    if (sameAfterMask(js, cpp) !== same) {
        console.error(`partition_diff_mask_test: FAILED: ${what}`);
        process.exit(1);
    }
}
console.log(`partition_diff_mask_test: ${cases.length} checks passed`);
