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

function check(ok, what) {
    if (!ok) {
        console.error(`partition_diff_mask_test: FAILED: ${what}`);
        process.exit(1);
    }
}

// Both sides' outputs of one step, masked, compare equal or not.
function sameAfterMask(js, cpp) {
    return canonical(forgetRandomIds(parseOrdered(js))) === canonical(forgetRandomIds(parseOrdered(cpp)));
}

// A CurrentVersion whose vector has pinned ids (5, 9999: below 10000) and
// the random ids of two throw-away documents.
const version = (vector) => `{"event":"version","currentVersion":{"currentSite":"5","vector":${vector}}}`;

check(
    sameAfterMask(version('{"5":3,"123456":7,"987654":2}'), version('{"5":3,"234567":7,"876543":2}')),
    'two random ids in the same key order, same clocks'
);
// Integer-like keys are ordered numerically by JS, so the side whose larger
// id holds the smaller clock lists the clocks the other way round.
check(
    sameAfterMask(version('{"5":3,"123456":7,"987654":2}'), version('{"5":3,"234567":2,"876543":7}')),
    'two random ids whose clocks the key order pairs the other way round'
);
check(
    !sameAfterMask(version('{"123456":1,"234567":1,"9999":4}'), version('{"9999":4,"345678":1,"456789":1}')),
    'a pinned id moved among the random ones is a difference'
);
check(
    !sameAfterMask(version('{"5":3,"123456":7,"987654":2}'), version('{"5":3,"234567":7,"876543":3}')),
    'a different clock of a random id is a difference'
);
check(
    !sameAfterMask(version('{"5":3,"123456":7}'), version('{"5":4,"234567":7}')),
    'a different clock of a pinned id is a difference'
);
check(
    !sameAfterMask(version('{"5":3,"123456":7}'), version('{"5":3,"234567":7,"876543":1}')),
    'a random id more is a difference'
);

// A tag edit's version names sites by id too; other "version" keys (an aux
// file's version, a bot's tag) are left alone.
const edit = (version) => `{"event":"updated","tags":{"label":{"edit":true,"version":${version}}}}`;
check(sameAfterMask(edit('{"5":2,"1234567":9}'), edit('{"5":2,"7654321":9}')), "a tag edit's version");
check(!sameAfterMask(edit('{"5":2,"1234567":9}'), edit('{"5":2,"7654321":8}')), "a tag edit's different clock");
check(
    !sameAfterMask('{"tags":{"version":{"abcdef":1}}}', '{"tags":{"version":{"ghijkl":1}}}'),
    'a version of names that are not site ids'
);
check(!sameAfterMask('{"version":2}', '{"version":1}'), 'an aux file version number');

// The final document bytes hold the random ids: dropped (the cross-load and
// the final state still compare the document).
check(sameAfterMask('{"final":{"update":"AQID"}}', '{"final":{"update":"BAUG"}}'), 'the final bytes');
check(!sameAfterMask('{"final":{"state":{"b":1}}}', '{"final":{"state":{"b":2}}}'), 'the final state');

console.log('partition_diff_mask_test: 12 checks passed');
