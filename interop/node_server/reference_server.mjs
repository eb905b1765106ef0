// The Node reference inst server: the REAL aux-records 3.10.5
// WebsocketController with its in-memory stores, a real AuthController and
// PolicyController, behind a `ws` websocket server. Used by the interop
// tests and the load benchmark as the peer our C++ server is compared with.
//
// What is ours (the published package ships no RecordsServer.js):
//   * the frame dispatch of RecordsServer.handleWebsocketRequest
//     (spec/inst-protocol.md 2.2): JSON parse, the real zod envelope and
//     request schemas, the real error replies, the controller calls;
//   * WsMessenger: delivers the controller's messages as [1, -1, message]
//     frames, the way the CasualOS Node server does;
//   * ModeAwareConnectionStore: the reference MemoryWebsocketConnectionStore
//     keys a socket's own registration list by (recordName, inst, branch)
//     without the watch mode, so a repo/watch_branch_devices handled before
//     repo/watch_branch on the same namespace swallows the branch
//     registration (no disconnect announcement, the closed socket stays
//     counted). The Redis store has no such bug; this subclass compares the
//     mode too (and tolerates deleting a registration that does not exist).

import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { loadReference } from './build.mjs';

const UNACCEPTABLE = 'The request was invalid. One or more fields were invalid.';

/**
 * The server without a network: the real controller, its stores and the
 * dispatch, delivering frames through `deliver(serverConnectionId, text)`
 * and closing sockets through `close(serverConnectionId)`. Resolves to
 * { controller, handleFrame(serverConnectionId, text), disconnect(id),
 *   createUser(email) }.
 */
export async function createReferenceCore({ deliver, close = () => {}, maxBytesPerInst = null, log = null }) {
    const R = await loadReference({ log: (m) => log?.(m) });

    class ModeAwareConnectionStore extends R.MemoryWebsocketConnectionStore {
        async saveBranchConnection(connection) {
            const list = this._getConnectionList(connection.serverConnectionId);
            const same = (c) =>
                c.mode === connection.mode &&
                c.recordName === connection.recordName &&
                c.inst === connection.inst &&
                c.branch === connection.branch;
            const existing = list.findIndex(same);
            const ns = this._getNamespaceList(namespaceKey(connection));
            const inNs = ns.findIndex((c) => c.serverConnectionId === connection.serverConnectionId);
            if (existing >= 0) {
                list[existing] = connection;
            } else {
                list.push(connection);
            }
            if (inNs >= 0) {
                ns[inNs] = connection;
            } else {
                // Keep the reference order: sorted by serverConnectionId.
                let i = 0;
                while (i < ns.length && ns[i].serverConnectionId < connection.serverConnectionId) {
                    i++;
                }
                ns.splice(i, 0, connection);
            }
        }
        async deleteBranchConnection(serverConnectionId, mode, recordName, inst, branch) {
            const key = { mode, recordName, inst, branch };
            const ns = this._getNamespaceList(namespaceKey(key));
            const inNs = ns.findIndex((c) => c.serverConnectionId === serverConnectionId);
            if (inNs >= 0) {
                ns.splice(inNs, 1);
            }
            const list = this._getConnectionList(serverConnectionId);
            const i = list.findIndex(
                (c) => c.mode === mode && c.recordName === recordName && c.inst === inst && c.branch === branch
            );
            if (i >= 0) {
                list.splice(i, 1);
            }
        }
        async clearConnection(serverConnectionId) {
            for (const c of this._getConnectionList(serverConnectionId)) {
                const ns = this._getNamespaceList(namespaceKey(c));
                const i = ns.findIndex((x) => x.serverConnectionId === serverConnectionId);
                if (i >= 0) {
                    ns.splice(i, 1);
                }
            }
            this._connectionMap.set(serverConnectionId, []);
            this._connections.delete(serverConnectionId);
            this._authorizedInsts.delete(serverConnectionId);
            this._authorizedUpdateDataInsts.delete(serverConnectionId);
        }
    }

    const messenger = {
        async sendMessage(connectionIds, data, excludeConnection) {
            const text = JSON.stringify([R.WebsocketEventTypes.Message, -1, data]);
            for (const id of connectionIds) {
                if (id !== excludeConnection) {
                    send(id, text);
                }
            }
        },
        async sendEvent(connectionId, event) {
            send(connectionId, JSON.stringify(event));
        },
        async sendRaw(connectionId, data) {
            send(connectionId, data);
        },
        async presignMessageUpload() {
            return { success: false, errorCode: 'not_supported', errorMessage: 'Message uploads are not supported.' };
        },
        async downloadMessage() {
            // The Node server keeps no offloaded messages: message_not_found.
            return null;
        },
        async disconnect(connectionId) {
            close(connectionId);
        },
    };
    const send = deliver;

    const subscriptions = R.buildSubscriptionConfig((c) =>
        c
            .withUserDefaultFeatures((f) => f.withAllDefaultFeatures())
            .withStudioDefaultFeatures((f) => f.withAllDefaultFeatures())
            .withPublicInsts(maxBytesPerInst ? { allowed: true, maxBytesPerInst } : { allowed: true })
    );
    const store = new R.MemoryStore({ subscriptions });
    const authMessenger = new R.MemoryAuthMessenger();
    const auth = new R.AuthController(store, authMessenger, store, store);
    const records = new R.RecordsController({
        store,
        auth: store,
        config: store,
        metrics: store,
        messenger: store,
        privo: null,
        domainNameValidator: null,
    });
    const policies = new R.PolicyController(auth, records, store, store);
    const connectionStore = new ModeAwareConnectionStore();
    const tempStore = new R.MemoryTempInstRecordsStore();
    const instStore = new R.SplitInstRecordsStore(new R.MemoryTempInstRecordsStore(), store);
    const controller = new R.WebsocketController(
        connectionStore,
        messenger,
        instStore,
        tempStore,
        auth,
        policies,
        store,
        store,
        store
    );

    // RecordsServer.handleWebsocketRequest, message part (2.2 steps 1-4).
    async function handleFrame(connectionId, text) {
        const requestTime = Date.now();
        let data;
        try {
            data = JSON.parse(text);
        } catch {
            return; // not JSON: ignored
        }
        if (typeof data !== 'object') {
            return; // a number, string or boolean: ignored (null is not)
        }
        const envelope = R.websocketEventSchema().safeParse(data);
        if (!envelope.success) {
            await controller.sendError(connectionId, null, zodError(envelope.error));
            return;
        }
        const [type, requestId] = envelope.data;
        if (type === R.WebsocketEventTypes.Message) {
            await handleMessage(connectionId, requestId, data[2], requestTime);
        } else if (type === R.WebsocketEventTypes.UploadRequest) {
            await controller.uploadRequest(connectionId, requestId);
        } else if (type === R.WebsocketEventTypes.DownloadRequest) {
            const parsed = R.websocketDownloadRequestEventSchema().safeParse(data);
            if (!parsed.success) {
                await controller.sendError(connectionId, requestId, zodError(parsed.error));
                return;
            }
            const [, , url, method, headers] = parsed.data;
            const result = await controller.downloadRequest(connectionId, requestId, url, method, headers);
            if (!result.success) {
                await controller.sendError(connectionId, requestId, result);
                return;
            }
            let message;
            try {
                message = JSON.parse(result.message);
            } catch {
                await controller.sendError(connectionId, requestId, {
                    success: false,
                    errorCode: 'unacceptable_request',
                    errorMessage: 'The request was invalid. The downloaded file must contain JSON.',
                });
                return;
            }
            await handleMessage(connectionId, requestId, message, requestTime);
        }
        // 3 (UploadResponse) and 5 (Error) from a client: ignored.
    }

    async function handleMessage(connectionId, requestId, raw, requestTime) {
        try {
            await dispatchMessage(connectionId, requestId, raw, requestTime);
        } catch (err) {
            // e.g. repo/send_action before login: the controller throws and
            // nothing is sent (spec/inst-protocol.md 4.1).
            log?.(`handler error: ${err?.stack ?? err}`);
        }
    }

    async function dispatchMessage(connectionId, requestId, raw, requestTime) {
        const parsed = R.websocketRequestMessageSchema().safeParse(raw);
        if (!parsed.success) {
            await controller.sendError(connectionId, requestId, zodError(parsed.error));
            return;
        }
        const m = parsed.data;
        switch (m.type) {
            case 'login':
                return controller.login(connectionId, requestId, m);
            case 'repo/watch_branch':
                return controller.watchBranch(connectionId, m);
            case 'repo/unwatch_branch':
                return controller.unwatchBranch(connectionId, m.recordName, m.inst, m.branch);
            case 'repo/add_updates':
                return controller.addUpdates(connectionId, m);
            case 'repo/send_action':
                return controller.sendAction(connectionId, m);
            case 'repo/watch_branch_devices':
                return controller.watchBranchDevices(connectionId, m.recordName, m.inst, m.branch);
            case 'repo/unwatch_branch_devices':
                return controller.unwatchBranchDevices(connectionId, m.recordName, m.inst, m.branch);
            case 'repo/connection_count':
                return controller.deviceCount(connectionId, m.recordName, m.inst, m.branch);
            case 'sync/time':
                return controller.syncTime(connectionId, m, requestTime);
            case 'repo/get_updates':
                return controller.getUpdates(connectionId, m.recordName, m.inst, m.branch);
            case 'permission/request/missing':
                return controller.requestMissingPermission(connectionId, m);
            case 'permission/request/missing/response':
                return controller.respondToPermissionRequest(connectionId, m);
            case 'http_request':
                // The records HTTP API is not part of this peer.
                return messenger.sendMessage([connectionId], {
                    type: 'http_response',
                    id: m.id,
                    response: {
                        statusCode: 501,
                        headers: { 'content-type': 'application/json' },
                        body: JSON.stringify({
                            success: false,
                            errorCode: 'not_supported',
                            errorMessage: 'HTTP requests over websockets are not supported.',
                        }),
                    },
                });
        }
    }

    async function createUser(email = `user${randomUUID()}@example.com`) {
        const request = await auth.requestLogin({ address: email, addressType: 'email', ipAddress: '127.0.0.1' });
        if (!request.success) {
            throw new Error(`requestLogin: ${request.errorMessage}`);
        }
        const code = authMessenger.messages.find((m) => m.address === email);
        const result = await auth.completeLogin({
            code: code.code,
            requestId: request.requestId,
            userId: request.userId,
            ipAddress: '127.0.0.1',
        });
        if (!result.success) {
            throw new Error(`completeLogin: ${result.errorMessage}`);
        }
        // The user's personal record (named after the user id), as the
        // records API creates it on first use.
        await records.createRecord({ recordName: result.userId, userId: result.userId, ownerId: result.userId });
        return { userId: result.userId, sessionKey: result.sessionKey, connectionKey: result.connectionKey };
    }

    return {
        R,
        controller,
        store,
        handleFrame,
        disconnect: (id) => controller.disconnect(id),
        createUser,
    };
}

/**
 * Starts a reference server. Options: port (0 = any), host, maxBytesPerInst
 * (public insts; null = unlimited), log (function or null).
 * Resolves to { url, port, controller, createUser(email), close() }.
 */
export async function startReferenceServer({
    port = 0,
    host = '127.0.0.1',
    maxBytesPerInst = null,
    log = null,
} = {}) {
    const sockets = new Map(); // serverConnectionId -> ws
    const core = await createReferenceCore({
        maxBytesPerInst,
        log,
        deliver(id, text) {
            const ws = sockets.get(id);
            if (ws && ws.readyState === ws.OPEN) {
                ws.send(text);
            }
        },
        close(id) {
            sockets.get(id)?.close();
        },
    });
    const { controller, handleFrame } = core;
    const wss = new WebSocketServer({ host, port, handleProtocols: (protocols) => protocols.values().next().value ?? false });
    wss.on('connection', (ws) => {
        const id = randomUUID();
        sockets.set(id, ws);
        // Frames of one socket are handled as they arrive, without waiting
        // for the previous one (2.8), like the CasualOS Node server.
        ws.on('message', (data, isBinary) => {
            if (isBinary) {
                return;
            }
            handleFrame(id, data.toString('utf8')).catch((err) => log?.(`frame error: ${err?.stack ?? err}`));
        });
        ws.on('close', () => {
            sockets.delete(id);
            controller.disconnect(id).catch((err) => log?.(`disconnect error: ${err?.stack ?? err}`));
        });
    });
    await new Promise((resolve, reject) => {
        wss.once('listening', resolve);
        wss.once('error', reject);
    });
    const actualPort = wss.address().port;

    return {
        url: `ws://${host}:${actualPort}/websocket`,
        port: actualPort,
        controller,
        store: core.store,
        /** Signs a user in through the real AuthController. */
        createUser: core.createUser,
        async close() {
            for (const ws of sockets.values()) {
                ws.terminate();
            }
            await new Promise((resolve) => wss.close(() => resolve()));
        },
    };
}

function namespaceKey(c) {
    return `/${c.mode}/${c.recordName ?? ''}/${c.inst}/${c.branch}`;
}

function zodError(error) {
    return {
        success: false,
        errorCode: 'unacceptable_request',
        errorMessage: UNACCEPTABLE,
        issues: error.issues,
    };
}
