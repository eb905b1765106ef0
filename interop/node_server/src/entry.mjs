// Entry point of the reference bundle (built by ../build.mjs into
// ../dist/reference.mjs): the REAL CasualOS code this folder runs.
//
// Server side: aux-records 3.10.5's WebsocketController with its in-memory
// stores, a real AuthController and PolicyController. Client side:
// aux-common 3.10.5's AuthenticatedConnectionClient, InstRecordsClient,
// RemoteYjsPartitionImpl and OtherPlayersPartitionImpl. Schemas: the zod
// schemas the real server parses each frame with.
//
// aux-records ships RecordsServer.d.ts but no RecordsServer.js, so the
// frame dispatch that sits in front of the controller is written here
// (dispatch.mjs); everything it calls is the published code.

export { WebsocketController } from '@casual-simulation/aux-records/websockets/WebsocketController';
export { MemoryWebsocketConnectionStore } from '@casual-simulation/aux-records/websockets/MemoryWebsocketConnectionStore';
export { MemoryTempInstRecordsStore } from '@casual-simulation/aux-records/websockets/MemoryTempInstRecordsStore';
export { SplitInstRecordsStore } from '@casual-simulation/aux-records/websockets/SplitInstRecordsStore';
export { MemoryStore } from '@casual-simulation/aux-records/MemoryStore';
export { MemoryAuthMessenger } from '@casual-simulation/aux-records/MemoryAuthMessenger';
export { AuthController } from '@casual-simulation/aux-records/AuthController';
export { RecordsController } from '@casual-simulation/aux-records/RecordsController';
export { PolicyController } from '@casual-simulation/aux-records/PolicyController';
export { buildSubscriptionConfig } from '@casual-simulation/aux-records/SubscriptionConfigBuilder';

export {
    websocketEventSchema,
    websocketRequestMessageSchema,
    websocketErrorInfoSchema,
    websocketUploadResponseEventSchema,
    websocketDownloadRequestEventSchema,
    loginMessageSchema,
    watchBranchMessageSchema,
    unwatchBranchMessageSchema,
    watchBranchDevicesMessageSchema,
    unwatchBranchDevicesMessageSchema,
    addUpdatesMessageSchema,
    getUpdatesMessageSchema,
    updatesReceivedMessageSchema,
    sendActionMessageSchema,
    receiveDeviceActionMessageSchema,
    connectedToBranchMessageSchema,
    disconnectedFromBranchMessageSchema,
    connectionCountMessageSchema,
    timeSyncRequestMessageSchema,
    timeSyncResponseMessageSchema,
    requestMissingPermissionMessageSchema,
    requestMissingPermissionResponseMessageSchema,
    rateLimitExceededMessageSchema,
    websocketHttpRequestMessageSchema,
    WebsocketEventTypes,
} from '@casual-simulation/aux-common/websockets/WebsocketEvents';
export {
    remote,
    remoteResult,
    remoteError,
    device,
    deviceResult,
    deviceError,
} from '@casual-simulation/aux-common/common/RemoteActions';
export { generateV1ConnectionToken, v1ConnectionTokenHmac } from '@casual-simulation/aux-common/records/AuthUtils';
export { parseV1ConnectionToken } from '@casual-simulation/aux-common/common/ConnectionToken';

export { AuthenticatedConnectionClient } from '@casual-simulation/aux-common/websockets/AuthenticatedConnectionClient';
export { InstRecordsClient } from '@casual-simulation/aux-common/websockets/InstRecordsClient';
export { RemoteYjsPartitionImpl } from '@casual-simulation/aux-common/partitions/RemoteYjsPartition';
export { OtherPlayersPartitionImpl } from '@casual-simulation/aux-common/partitions/OtherPlayersPartition';
export { PartitionAuthSource } from '@casual-simulation/aux-common/partitions/PartitionAuthSource';
export { botAdded, botUpdated, createBot } from '@casual-simulation/aux-common/bots';
export { BehaviorSubject, Subject, NEVER, firstValueFrom } from 'rxjs';
export { filter, map, share } from 'rxjs/operators';
