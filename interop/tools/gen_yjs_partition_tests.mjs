#!/usr/bin/env node
// Generates auxsync/partitions/internal/yjs_partition_cases_for_test.h: the
// conformance cases of YjsPartition (checklist D, F, N) as scenarios with
// the exact output the REAL aux-common 3.10.5 YjsPartition produces for
// them (interop/yjs_partition_runner.mjs, --tagged form, Date.now() pinned
// to 1234, client ids 1000 / 2000).
//
//   node interop/tools/gen_yjs_partition_tests.mjs > auxsync/partitions/internal/yjs_partition_cases_for_test.h

import { runYjsScenario, createYjsPartition } from '../yjs_partition_runner.mjs';
import { getPeer } from '../run_scenario.mjs';
import { decodeTagged, writeJson } from '../lib/tagged_json.mjs';

const TE = '\u0011tag_edit';
const add = (id, tags, extra = {}) => ({ type: 'add_bot', id, bot: { id, tags, ...extra } });
const rem = (id) => ({ type: 'remove_bot', id });
const upd = (id, update) => ({ type: 'update_bot', id, update });
const tags = (id, t) => upd(id, { tags: t });
const mask = (id, space, t) => upd(id, { masks: { [space]: t } });
const P = (count) => ({ type: 'preserve', count });
const I = (text) => ({ type: 'insert', text });
const D = (count) => ({ type: 'delete', count });
const ed = (version, ...ops) => ({ [TE]: true, version, operations: [ops] });
const eds = (version, ...seqs) => ({ [TE]: true, version, operations: seqs });
const red = (version, ...ops) => ({ ...ed(version, ...ops), isRemote: true });
const ev = (...actions) => ({ applyEvents: actions });
const remote = (event, taskId) => ({ type: 'remote', event, taskId });
const sre = (...actions) => ({ sendRemoteEvents: actions });
const INF = Infinity;

const ALL_REMOTE = {
    get_remotes: true,
    get_remote_count: true,
    list_inst_updates: true,
    get_inst_state_from_updates: true,
    create_initialization_update: true,
    apply_updates_to_inst: true,
    get_current_inst_update: true,
    install_aux_file: true,
};
const F_CONFIG = { type: 'yjs', remoteEvents: ALL_REMOTE, connectionId: 'connectionId' };

const DATA_TYPES = [
    ['DateTimeString', '📅1999-11-19T05:42:08Z'],
    ['Vector2String', '➡️1,2'],
    ['Vector3String', '➡️1,2,3'],
    ['RotationString', '🔁0,0,0,1'],
    ['Number', 123],
    ['True', true],
    ['False', false],
    ['String', 'abc'],
    ['Infinity', INF],
    ['NegInfinity', -INF],
    ['Object', { abc: 'def' }],
    ['Array', [1, 2, 3]],
];

// Updates made by another (real) partition, for F8-F10 and the installs.
async function updatesOf(actionsList, clientId) {
    const peer = await getPeer();
    const p = await createYjsPartition(peer, { partition: { type: 'yjs' }, clientId, remoteClientId: clientId + 1 });
    const out = [];
    for (const actions of actionsList) {
        await p.applyEvents(actions);
        out.push({ id: 0, timestamp: 0, update: Buffer.from(peer.Y.encodeStateAsUpdate(p.doc)).toString('base64') });
    }
    return out;
}

async function cases() {
    const c = [];
    const s = (name, steps, extra = {}) => c.push({ name, scenario: { partition: { type: 'yjs' }, clientId: 1000, remoteClientId: 2000, ...extra, steps } });
    const def = add('test', { abc: 'def' });
    // --- D: add_bot
    s('D1_AddsBot', [ev(def)]);
    s('D2_AddsTwoBotsInOneBatch', [ev(def, add('test2', { abc: 'ghi' }))]);
    s('D5_AddsBotsToConfiguredSpace', [ev(def, add('test2', { abc: 'ghi' }))], { space: 'test' });
    s('D6_MaskBeforeAddInOneBatch', [ev(mask('test', 'test', { test: 'mask' }), def)], { space: 'test' });
    for (const [n, v] of DATA_TYPES) s(`D7_AddsDataType${n}`, [ev(add('test', { abc: v }))]);
    // --- remove_bot
    s('D8_RemovesBot', [ev(def), ev(rem('test'))]);
    s('D9_RemovesTwoBotsInOneBatch', [ev(def, add('test2', { abc: 'ghi' })), ev(rem('test2'), rem('test'))]);
    s('D10_AddAndRemoveInOneBatch', [ev(def, rem('test'))]);
    // --- update_bot
    const base = add('test', { abc: 'def', example: 123 });
    s('D11_UpdatesTag', [ev(base), ev(tags('test', { abc: 'ghi' }))]);
    s('D12_UpdatesTwoBotsInOneBatch', [ev(add('test1', { abc: 'def' }), add('test2', { number: 123 })), ev(tags('test1', { abc: 'ghi' }), tags('test2', { number: 456 }))]);
    s('D13_AddsNewTag', [ev(base), ev(tags('test', { hahaha: true }))]);
    s('D14_DeletesTagWithNull', [ev(base), ev(tags('test', { example: null }))]);
    s('D15_EmptyUpdateEmitsNoUpdate', [ev(base), ev(upd('test', {}))]);
    s('D16_AddThenSameValueInOneBatch', [ev(base, tags('test', { example: 123 }))]);
    s('D17_SameValueEmitsNoUpdate', [ev(base), ev(tags('test', { abc: 'def' }))]);
    s('D18_DeletingMissingTagEmitsNothing', [ev(base), ev(tags('test', { missing: null }))]);
    s('D20_ReportsOnlyChangedTags', [ev(base), ev(tags('test', { abc: 'def', example: 456 }))]);
    s('D21_TwoUpdatesOfOneBotInOneBatch', [ev(base), ev(tags('test', { abc: 'rgb' }), tags('test', { example: 456 }))]);
    s('D22_UpdatingMissingBotEmitsNothing', [ev(base), ev(tags('missing', { abc: 'x' }))]);
    s('D23_DeletesWithNullUndefinedOrEmpty', [ev(base), ev(tags('test', { example: null })), ev(tags('test', { example: 1 })), ev(tags('test', { example: undefined })), ev(tags('test', { example: 2 })), ev(tags('test', { example: '' }))]);
    s('D24_KeepsZeroFalseAndSpace', [ev(base), ev(tags('test', { example: 0 })), ev(tags('test', { example: false })), ev(tags('test', { example: ' ' }))]);
    for (const [n, v] of DATA_TYPES) s(`D25_UpdatesToDataType${n}`, [ev(def), ev(tags('test', { abc: v }))]);
    // --- tag edits
    s('D26_InsertEdit', [ev(def), ev(tags('test', { abc: ed({}, I('ghi')) }))]);
    s('D27_DeleteEdit', [ev(def), ev(tags('test', { abc: ed({}, D(2)) }))]);
    s('D28_TwoDeleteSequencesMerged', [ev(add('test', { abc: 'abcdefghijklmnop' })), ev(tags('test', { abc: eds({}, [P(3), D(3)], [P(6), D(3)]) }))]);
    s('D29_TwoInsertSequencesMerged', [ev(add('test', { abc: 'abcdef' })), ev(tags('test', { abc: eds({}, [P(3), I('123')], [P(9), I('456')]) }))]);
    s('D30_DeletingAllTextRemovesTag', [ev(add('test', { abc: 'abcdef' })), ev(tags('test', { abc: eds({}, [D(6)]) }))]);
    s('D31_EditOnNumberBooleanObject', [ev(add('test', { n: 123, b: true, o: { prop: 'yes' } })), ev(tags('test', { n: ed({}, P(1), I('abc')) })), ev(tags('test', { b: ed({}, P(1), I('abc')) })), ev(tags('test', { o: ed({}, P(1), I('abc')) }))]);
    s('D32_RemoteEdit', [ev(def), ev(tags('test', { abc: red({}, I('ghi')) }))]);
    s('D33_TwoEditsInOneBatch', [ev(def), ev(tags('test', { abc: ed({}, P(2), I('123')) }), tags('test', { abc: ed({}, P(3), I('ghi')) }))]);
    s('D34_EditAndSetInOneBatch', [ev(add('test', { abc: 'def', testTag: 0 })), ev(tags('test', { testTag: 123 }), tags('test', { abc: ed({}, P(2), I('ghi')) }))]);
    // --- masks
    const ts = { space: 'testSpace' };
    s('D35_MaskForMissingBot', [ev(mask('test', 'testSpace', { newTag: true, abc: 123 }))], ts);
    s('D36_MasksForTwoBots', [ev(mask('test1', 'testSpace', { newTag: true }), mask('test2', 'testSpace', { abc: 123 }))], ts);
    s('D37_MaskForOtherSpaceIgnored', [ev(mask('test', 'different', { newTag: true }))], ts);
    s('D38_MaskOnExistingBot', [ev(def), ev(mask('test', 'testSpace', { newTag: true, abc: 123 }))], ts);
    s('D39_EmptyTagsWithMask', [ev(upd('test', { tags: {}, masks: { testSpace: { newTag: true } } }))], ts);
    for (const [n, v] of DATA_TYPES) s(`D40_MaskDataType${n}`, [ev(mask('test', 'testSpace', { newTag: true, abc: v }))], ts);
    s('D41_MaskInsertEdit', [ev(mask('test', 'testSpace', { abc: 'def' })), ev(mask('test', 'testSpace', { abc: ed({}, I('ghi')) }))], ts);
    s('D42_MaskDeleteEdit', [ev(mask('test', 'testSpace', { abc: 'def' })), ev(mask('test', 'testSpace', { abc: ed({}, D(2)) }))], ts);
    s('D43_MaskEditDeletesAll', [ev(mask('test', 'testSpace', { abc: 'value' })), ev(mask('test', 'testSpace', { abc: eds({}, [D(5)]) }))], ts);
    s('D44_TwoMaskEditsInOneBatch', [ev(mask('test', 'testSpace', { abc: 'def' })), ev(mask('test', 'testSpace', { abc: ed({}, P(2), I('123')) }), mask('test', 'testSpace', { abc: ed({}, P(3), I('ghi')) }))], ts);
    s('D45_MaskEditAndSet', [ev(mask('test', 'testSpace', { abc: 'def', testTag: 0 })), ev(mask('test', 'testSpace', { testTag: 123 }), mask('test', 'testSpace', { abc: ed({}, P(2), I('ghi')) }))], ts);
    // --- apply_state
    s('D46_ApplyStateAdds', [ev({ type: 'apply_state', state: { test: { id: 'test', tags: { abc: 'def' } } } })]);
    s('D47_ApplyStateUpdates', [ev(def), ev({ type: 'apply_state', state: { test: { tags: { abc: 'ghi' } } } })]);
    s('D48_ApplyStateRemoves', [ev(def), ev({ type: 'apply_state', state: { test: null } })]);
    s('D50_ConnectStatuses', []);
    // --- concurrent edits (the base version is {}: the local client is
    // always fully visible, so it equals the version captured after the add)
    const cc = (name, text, edits) => s(name, [ev(add('test', { abc: text })), ...edits.map((e) => ev(tags('test', { abc: e })))]);
    cc('D51_ConcurrentInserts', 'def', [ed({}, I('ghi')), ed({}, P(3), I('jfk')), ed({}, P(6), I('lmn'))]);
    cc('D52_ConcurrentInsertsInside', 'def', [ed({}, I('ghi')), ed({}, P(1), I('jfk')), ed({}, P(3), I('lmn'))]);
    cc('D53_ConcurrentDeletes', 'def', [ed({}, I('ghi')), ed({}, P(1), D(2)), ed({}, P(1), D(2))]);
    cc('D54_FourSequencesOneEdit', 'abc\nabc\nabc\nabc', [eds({}, [P(3), I('d')], [P(8), I('d')], [P(13), I('d')], [P(18), I('d')])]);
    cc('D55_RemoteEditInvisibleToLocal', 'def', [ed({}, I('111')), ed({}, P(2), I('444')), red({}, P(1), I('222')), ed({}, P(2), I('333'))]);
    // D56/D57: seeded random single-sequence edits.
    let seed = 56;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const words = ['lorem', 'ipsum', 'dolor', ' sit ', 'amet', '😀', 'x'];
    // 25 sentence cases and 5 paragraph cases, as upstream's fuzz tests.
    const paragraph = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam.';
    for (let k = 0; k < 30; k++) {
        const start = k < 25 ? 'hello world' : paragraph;
        let len = start.length;
        const steps = [];
        for (let i = 0; i < 8; i++) {
            const at = Math.floor(rnd() * (len + 1));
            if (rnd() < 0.6 || len === 0) {
                const w = words[Math.floor(rnd() * words.length)];
                steps.push(ed({}, P(at), I(w)));
                len += w.length;
            } else {
                const n = Math.min(len - Math.min(at, len), 1 + Math.floor(rnd() * 4));
                steps.push(ed({}, P(Math.min(at, len)), D(n)));
                len -= n;
            }
        }
        const kind = k < 25 ? `Sentence${k}` : `Paragraph${k - 25}`;
        s(`D56_FuzzTagEdits${kind}`, [ev(add('test', { abc: start })), ...steps.map((e) => ev(tags('test', { abc: e })))]);
        s(`D57_FuzzMaskEdits${kind}`, [ev(mask('test', 'space', { abc: start })), ...steps.map((e) => ev(mask('test', 'space', { abc: e })))], { space: 'space' });
    }
    // --- F
    const fs = (name, steps, extra = {}) => s(name, steps, { partition: F_CONFIG, ...extra });
    fs('F4_GetRemotes', [sre(remote({ type: 'get_remotes' }, 'task1'))]);
    s('F5_GetRemotesWithoutConnectionId', [sre(remote({ type: 'get_remotes' }, 'task1'))], { partition: { type: 'yjs', remoteEvents: ALL_REMOTE } });
    fs('F6_GetRemoteCount', [sre(remote({ type: 'get_remote_count' }, 'task1'))]);
    fs('F7_ListInstUpdates', [ev(def), sre(remote({ type: 'list_inst_updates' }, 'task2'))]);
    const [u1, u2] = await updatesOf([[add('test1', { abc: 'def', num: 123 })], [tags('test1', { num: 456 })]], 5000);
    fs('F8_GetInstStateFromUpdates', [sre(remote({ type: 'get_inst_state_from_updates', updates: [u1] }, 'task1'), remote({ type: 'get_inst_state_from_updates', updates: [u1, u2] }, 'task2'))]);
    const [other] = await updatesOf([[add('test1', { abc: 'def' }), add('test2', { num: 124 })]], 6000);
    fs('F10_ApplyUpdatesToInst', [sre(remote({ type: 'apply_updates_to_inst', updates: [other] }, 'task1'))]);
    fs('F11_ApplyUpdatesFromOldYjs', [sre(remote({ type: 'apply_updates_to_inst', updates: [{ id: 0, timestamp: 0, update: 'AQLNrtWDBQAnAQRib3RzBGJvdDEBKADNrtWDBQAEdGFnMQF3A2FiYwA=' }] }, 'task1'))]);
    fs('F12_GetCurrentInstUpdate', [ev(def, add('test2', { num: 1 })), sre(remote({ type: 'get_current_inst_update' }, 'task1'))]);
    const [inst] = await updatesOf([[add('installed1', { abc: 'def' }), add('installed2', { abc: 'ghi' })]], 7000);
    const v2aux = { version: 2, updates: [inst] };
    const v1aux = { version: 1, state: { installed1: { id: 'installed1', tags: { abc: 'def' } }, installed2: { id: 'installed2', tags: { abc: 'ghi' } } } };
    const install = (aux, taskId, extra = {}) => remote({ type: 'install_aux_file', aux, mode: 'default', ...extra }, taskId);
    fs('F13_InstallV2Aux', [sre(install(v2aux, 'task1'))]);
    fs('F14_InstallV1Aux', [sre(install(v1aux, 'task1'))]);
    fs('F15_InstallV1AuxReplaces', [ev(add('installed1', { abc: 'xyz' }), add('installed2', { abc: 'xyz' })), sre(install(v1aux, 'task1'))]);
    fs('F16_InstallV2AuxTwiceWithoutSource', [sre(install(v2aux, 'task1')), sre(install(v2aux, 'task2'))]);
    const [first] = await updatesOf([[add('installed1', { abc: 'def' }), add('installed2', { abc: 'ghi' }), add('installed3', { deleted: true })]], 8000);
    const [second] = await updatesOf([[add('installed1', { value: 1 }), add('installed2', { test: true })]], 9000);
    const ver = (major) => ({ major, minor: 0, patch: 0, tag: null });
    fs('F19_InstallFromSourceReplaces', [sre(install({ version: 2, updates: [first] }, 'task1', { source: 'source1' })), sre(install({ version: 2, updates: [second] }, 'task2', { source: 'source1' }))]);
    fs('F20_DowngradeRefused', [sre(install({ version: 2, updates: [first] }, 'task1', { source: 'source1', version: ver(2) })), sre(install({ version: 2, updates: [second] }, 'task2', { source: 'source1', version: ver(1) }))]);
    fs('F21_DowngradeAllowed', [sre(install({ version: 2, updates: [first] }, 'task1', { source: 'source1', version: ver(2) })), sre(install({ version: 2, updates: [second] }, 'task2', { source: 'source1', version: ver(1), downgrade: true }))]);
    // --- N (Yjs)
    s('N25_EmptyAndNullTagsNotStored', [ev(add('b', { a: '', n: null, s: 'x' }))]);
    s('N26_EmptiedTextDisappears', [ev(add('b', { abc: 'abc' })), ev(tags('b', { abc: ed({}, D(3)) }))]);
    s('N27_ReAddEmitsAddThenRemove', [ev(add('b', { a: 1 })), ev(add('b', { c: 1 }))]);
    s('N28_VersionEmissionsPerTextEvent', [ev(add('b', { a: 'x', b: 'y', c: 'z', n: 1 })), ev(tags('b', { a: ed({}, I('1')), b: ed({}, I('2')), c: ed({}, I('3')) })), ev(tags('b', { n: 2 })), ev(tags('b', { n: ed({}, I('4')) })), ev(tags('b', { m: ed({}, I('5')) }))]);
    const [zz] = await updatesOf([[add('b', { t: 'abc' })], [tags('b', { t: ed({}, P(1), I('ZZ')) })]], 3000).then((u) => [u]);
    s('N29_AppliedUpdateReportedAsEdit', [{ applyUpdates: [zz[0].update] }, { applyUpdates: [zz[1].update] }]);
    s('N30_RemoteEditSwitchesClient', [ev(add('b', { t: 'abc' })), ev(tags('b', { t: red({}, I('r')) })), ev(add('c', { x: 1 }))]);
    s('N31_MasksOfOwnSpaceOnly', [ev(add('b', { a: 1 }, { masks: { sp: { m: 'own', k: 2 }, other: { o: 1 } } })), ev(mask('ghost', 'sp', { g: 1 })), ev(upd('b', { masks: { sp: { m: 'x' }, other: { z: 1 } } }))], { space: 'sp' });
    s('N32_EditOnNumberReportsString', [ev(add('b', { n: 123, s: 'abc', o: { a: 1 } })), ev(tags('b', { n: ed({}, P(1), I('x')) })), ev(tags('b', { missing: ed({}, I('new')) })), ev(tags('b', { s: 'abc' })), ev(tags('b', { o: { a: 1 } }))]);
    s('N33_TwoSequencesOneDelta', [ev(add('b', { t: 'abc' })), ev(tags('b', { t: eds({}, [P(1), D(1)], [P(1), I('Z')]) }))]);
    fs('N34_ReinstallSameSourceFails', [sre(install({ version: 2, updates: [first] }, 'task1', { source: 's' })), sre(install({ version: 2, updates: [first] }, 'task2', { source: 's' })), sre(install({ version: 2, updates: [second] }, 'task3', { source: 's' }))]);
    fs('N35_CreateInitializationUpdateEmpty', [sre(remote({ type: 'create_initialization_update', bots: [] }, 'task1'))]);
    s('N36_RemoteEventsDisabled', [sre(remote({ type: 'get_remote_count' }, 't1'))]);
    s('N36_OnlyListedRemoteEvents', [sre(remote({ type: 'get_remotes' }, 't1'), remote({ type: 'get_remote_count' }, 't2'), remote({ type: 'unknown' }, 't3'), { type: 'remote_result', result: 1, taskId: 't4' })], { partition: { type: 'yjs', remoteEvents: { get_remote_count: true } } });
    s('N56_UpdateOfBotAddedInSameBatchIgnored', [ev(add('b', { a: 1, c: 1 }), tags('b', { a: 2, c: null, d: 3 }))]);
    s('N57_EventsInFirstChangeOrder', [ev(add('b', { abc: 'def', testTag: 0 }), add('b1', { x: 1 })), ev(tags('b', { abc: ed({}, P(2), I('ghi')), testTag: 123 })), ev(tags('b1', { x: 2 }), add('b2', { y: 1 }))]);
    s('N_UpdateAfterReAddComparesOldValues', [ev(add('b', { a: 1 })), ev(rem('b'), add('b', { a: 5 }), tags('b', { a: 1, z: 2 }))]);
    s('N_TagUpdateOfMaskOnlyEntryRejects', [ev(mask('b', 'sp', { m: 1 })), ev(add('b', { a: 1 }), tags('b', { a: 2 }))], { space: 'sp' });
    // --- read path of foreign updates made with plain yjs
    const peer = await getPeer();
    const Y = peer.Y;
    const enc = (doc, sv) => Buffer.from(Y.encodeStateAsUpdate(doc, sv)).toString('base64');
    {
        const d = new Y.Doc();
        d.clientID = 4242;
        d.getMap('masks').set('nocolon', 1);
        d.getMap('masks').set('b:m', 2);
        s('N_InvalidMaskKeyDropsTransaction', [{ applyUpdates: [enc(d)] }, ev(add('x', { a: 1 }))], { space: 'sp' });
    }
    {
        const d = new Y.Doc();
        d.clientID = 4343;
        const bots = d.getMap('bots');
        const b = new Y.Map();
        b.set('x', new Y.Text('abc'));
        b.set('raw', 'plain string');
        bots.set('b', b);
        const cm = new Y.Map();
        cm.set('t', new Y.Text('hello'));
        bots.set('c', cm);
        d.getMap('masks').set('c:m', new Y.Text('mask'));
        const first = enc(d);
        const sv = Y.encodeStateVector(d);
        d.transact(() => {
            b.delete('x');
            cm.get('t').insert(2, 'ZZ');
            d.getMap('masks').get('c:m').insert(0, 'M');
            d.getMap('other').set('ignored', 1);
        });
        const second = enc(d, sv);
        s('N_ForeignUpdatesOrderAndRawStrings', [{ applyUpdates: [first] }, { applyUpdates: [second] }], { space: 'sp' });
        s('N_ForeignUpdatesWithoutSpace', [{ applyUpdates: [first, second] }]);
    }
    {
        // A tag another peer made a Y.XmlText (a Y.Text to upstream's
        // `instanceof Text`): read as its string, its edits reported as tag
        // edits, and a local edit goes into it.
        const d = new Y.Doc();
        d.clientID = 4444;
        const b = new Y.Map();
        const x = new Y.XmlText();
        x.insert(0, 'hello');
        b.set('x', x);
        d.getMap('bots').set('b', b);
        const first = enc(d);
        const sv = Y.encodeStateVector(d);
        x.insert(5, ' world');
        x.delete(0, 1);
        const second = enc(d, sv);
        s('N_XmlTextTagIsAText', [{ applyUpdates: [first] }, { applyUpdates: [second] }, ev(tags('b', { x: ed({}, P(2), I('++')) }))]);
    }
    // Updates a fuzzer made (fuzz/yjs_partition_fuzzer.cc): the second
    // splits off an item whose origin is in one text and whose left
    // neighbour is then bot b1's map value `t2`; a local edit of t2 then
    // sets a new text after that value, which yjs deletes at once (it has a
    // right neighbour) while the old value stays.
    s('N_ForeignItemAfterMapValueKeepsIt', [
        { applyUpdates: ['AQkLACcBBGJPdHMCYjABJwALAAJ0MAIEAAsBBWhlbGxvKAALAAJ0MQF9BSgACwACdDIBdgEBYXUCfQF9AicBBGJvdHMCYjEBJwALCQJ0MAIEAAsKAXgoAAsJAnQyAXgA'] },
        { applyUpdates: ['AQELDMQLAwsEAnl5AA=='] },
        ev(tags('b1', { t2: ed({}, P(2), D(1), I('z')) })),
        ev(tags('b1', { t2: 5 })),
    ]);
    return c;
}

// Cases whose documents contain ids of upstream's throw-away documents.
const RANDOM_IDS = new Set(['F19_InstallFromSourceReplaces', 'F21_DowngradeAllowed', 'N34_ReinstallSameSourceFails']);

function cxxString(s) {
    // A raw string literal; the delimiter never occurs in JSON output.
    return `R"json(${s})json"`;
}

async function main() {
    // YjsPartition processes transactions in an async function: a throw
    // there (an invalid mask key) is an unhandled rejection, which would
    // end node; in a browser it is only logged.
    process.on('unhandledRejection', () => {});
    const realNow = Date.now;
    Date.now = () => 1234;
    const out = [];
    out.push('// GENERATED by interop/tools/gen_yjs_partition_tests.mjs from the real');
    out.push('// @casual-simulation/aux-common 3.10.5 YjsPartition. Do not edit.');
    out.push('// Included by yjs_partition_test.cc, which defines ExpectScenario.');
    out.push('// The scenarios are single-line JSON literals, kept as generated.');
    out.push('// Where YJS_PARTITION_CASES_GROUP_D_ONLY is defined (the remote yjs');
    out.push("// partition's tests), only the group D cases are compiled: the others");
    out.push("// test YjsPartition's own answers to remote actions.");
    out.push('// clang-format off');
    out.push('');
    let notD = false; // inside the block of cases outside group D
    for (const { name, scenario } of await cases()) {
        if (name.startsWith('D') === notD) {
            out.push(notD ? '#endif  // YJS_PARTITION_CASES_GROUP_D_ONLY' : '#ifndef YJS_PARTITION_CASES_GROUP_D_ONLY');
            out.push('');
            notD = !notD;
        }
        const text = writeJson(scenario, true);
        const expected = await runYjsScenario(decodeTagged(JSON.parse(text)), { tagged: true }).catch((e) => {
            throw new Error(`${name}: ${e.stack}`);
        });
        out.push(`TEST(YjsPartition, ${name}) {`);
        out.push(`  ExpectScenario(${cxxString(text)},`);
        const random = RANDOM_IDS.has(name) ? ', /*random_ids=*/true' : '';
        out.push(`                 ${cxxString(expected)}${random});`);
        out.push('}');
        out.push('');
    }
    if (notD) {
        out.push('#endif  // YJS_PARTITION_CASES_GROUP_D_ONLY');
        out.push('');
    }
    Date.now = realNow;
    process.stdout.write(out.join('\n'));
}

main().catch((e) => {
    console.error(e?.stack ?? String(e));
    process.exit(1);
});
