// Entry point of the interop bundle (built by ../build.mjs into ../dist/peer.mjs).
//
// The published @casual-simulation/aux-common package ships ES modules whose
// relative imports have no file extensions, so node cannot load it directly.
// esbuild bundles everything the harness needs into one file.
//
// Note: aux-common 3.10.5 pins its own yjs (13.6.8, with lib0 0.2.49) in
// node_modules/@casual-simulation/aux-common/node_modules. The `Y` namespace
// exported here is THAT copy (build.mjs resolves `yjs` imported by this file
// from the aux-common folder), i.e. the very instance the Yjs partitions use:
// mixing two yjs copies breaks `instanceof` checks. The repo's top-level
// yjs 13.6.27 is not part of this bundle; import it from node_modules/yjs.

// Partitions.
export {
    createMemoryPartition,
    MemoryPartitionImpl,
} from '@casual-simulation/aux-common/partitions/MemoryPartition';
export {
    createYjsPartition,
    YjsPartitionImpl,
} from '@casual-simulation/aux-common/partitions/YjsPartition';
export { createAuxPartition } from '@casual-simulation/aux-common/partitions/AuxPartitionFactories';
export {
    iteratePartitions,
    getPartitionState,
} from '@casual-simulation/aux-common/partitions/AuxPartition';
export { PartitionAuthSource } from '@casual-simulation/aux-common/partitions/PartitionAuthSource';
export {
    ensureBotIsSerializable,
    ensureTagIsSerializable,
    constructInitializationUpdate,
    getStateFromUpdates,
    supportsRemoteEvent,
} from '@casual-simulation/aux-common/partitions/PartitionUtils';

// Bot model.
export {
    stateUpdatedEvent,
    applyUpdates,
    updatedBot,
} from '@casual-simulation/aux-common/bots/StateUpdatedEvent';
export {
    breakIntoIndividualEvents,
} from '@casual-simulation/aux-common/bots/BotActions';
export {
    botAdded,
    botRemoved,
    botUpdated,
} from '@casual-simulation/aux-common/bots/BotEvents';
export {
    createBot,
    hasValue,
    convertToString,
    getActiveObjects,
} from '@casual-simulation/aux-common/bots/BotCalculations';
export {
    edit,
    edits,
    remoteEdit,
    remoteEdits,
    mergeEdits,
    mergeVersions,
    preserve,
    insert,
    del,
    isTagEdit,
    apply,
    applyEdit,
    applyTagEdit,
    TAG_EDIT_NAME,
} from '@casual-simulation/aux-common/bots/AuxStateHelpers';

// The yjs instance used by the partitions above (aux-common's own yjs 13.6.8).
export * as Y from 'yjs';
