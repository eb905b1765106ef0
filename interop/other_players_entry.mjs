// Entry of dist/other_players_peer.mjs (bundled by
// tools/gen_other_players_cases.mjs): the real aux-common 3.10.5
// OtherPlayersPartition with its client stack, and a YjsPartition to make
// the players' branch updates with.
export { OtherPlayersPartitionImpl } from '@casual-simulation/aux-common/partitions/OtherPlayersPartition';
export { PartitionAuthSource } from '@casual-simulation/aux-common/partitions/PartitionAuthSource';
export { YjsPartitionImpl } from '@casual-simulation/aux-common/partitions/YjsPartition';
export { InstRecordsClient } from '@casual-simulation/aux-common/websockets/InstRecordsClient';
export { MemoryConnectionClient } from '@casual-simulation/aux-common/websockets/MemoryConnectionClient';
export { botAdded, botRemoved, botUpdated } from '@casual-simulation/aux-common/bots/BotEvents';
export { createBot } from '@casual-simulation/aux-common/bots/BotCalculations';
export { remote } from '@casual-simulation/aux-common/common/RemoteActions';
export { encodeStateAsUpdate } from 'yjs';
