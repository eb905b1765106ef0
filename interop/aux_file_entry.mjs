// Entry of dist/aux_file_peer.mjs (bundled by aux_file_diff.mjs): what the
// .aux file interop test uses from the real aux-common 3.10.5.
export { getBotsStateFromStoredAux } from '@casual-simulation/aux-common/bots/StoredAux';
export {
    constructInitializationUpdate,
    getStateFromUpdates,
} from '@casual-simulation/aux-common/partitions/PartitionUtils';
export { createInitializationUpdate } from '@casual-simulation/aux-common/bots/BotEvents';
