// Entry of dist/remote_yjs_peer.mjs (bundled by tools/remote_yjs_check.mjs):
// the real aux-common 3.10.5 RemoteYjsPartition with its client layer and
// the one yjs it uses.
export { RemoteYjsPartitionImpl } from '@casual-simulation/aux-common/partitions/RemoteYjsPartition';
export { PartitionAuthSource } from '@casual-simulation/aux-common/partitions/PartitionAuthSource';
export { InstRecordsClient } from '@casual-simulation/aux-common/websockets/InstRecordsClient';
export { MemoryConnectionClient } from '@casual-simulation/aux-common/websockets/MemoryConnectionClient';
export { Doc, Text, Map as YMap, encodeStateAsUpdate, applyUpdate } from 'yjs';
export { botAdded, botUpdated, createBot, action, edit, del } from '@casual-simulation/aux-common/bots';
export { remote, device, deviceResult, connectionInfo } from '@casual-simulation/aux-common/common';
