// Entry of dist/yjs_helpers_peer.mjs (bundled by yjs_helpers_gen.mjs):
// aux-common 3.10.5's YjsHelpers and the yjs copy it uses (13.6.8).
export * from '@casual-simulation/aux-common/yjs/YjsHelpers';
export * as Y from 'yjs';
