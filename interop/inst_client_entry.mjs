// Entry of dist/inst_client_peer.mjs (bundled by
// tools/gen_inst_client_cases.mjs): the real aux-common 3.10.5 client layer
// the C++ InstRecordsClient is compared with.
export { InstRecordsClient } from '@casual-simulation/aux-common/websockets/InstRecordsClient';
export { MemoryConnectionClient } from '@casual-simulation/aux-common/websockets/MemoryConnectionClient';
