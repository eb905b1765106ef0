// A minimal framing client for the real aux-common client stack: the
// ConnectionClient interface that aux-common's AuthenticatedConnectionClient
// and InstRecordsClient sit on, over a `ws` socket, framed as
// spec/inst-protocol.md 2.2-2.3 and 2.7 say (one id counter from 1 that is
// never reset, [1, id, message] out, arrays of >= 3 items in, [5, _, info]
// to the error stream, reconnect 5 s after an unexpected close). The
// @casual-simulation/aux-websocket package that has the CasualOS version of
// this class is not a dependency of interop/.

import WebSocket from 'ws';

export class WsConnectionClient {
    /** `R` is the loaded reference bundle (its rxjs is the one aux-common uses). */
    constructor(url, R, { reconnectMs = 5000 } = {}) {
        this._R = R;
        this._url = url;
        this._reconnectMs = reconnectMs;
        this._nextId = 1;
        this._socket = null;
        this._wanted = false;
        this._messages = new R.Subject();
        this._onError = new R.Subject();
        this._state = new R.BehaviorSubject({ connected: false, info: null });
        this.origin = new URL(url).origin;
        /** Every frame received, as text, for tests that look at the wire. */
        this.received = [];
        this.sent = [];
    }
    get connectionState() {
        return this._state;
    }
    get onError() {
        return this._onError;
    }
    get isConnected() {
        return this._state.value.connected;
    }
    get info() {
        return null;
    }
    get indicator() {
        return null;
    }
    event(name) {
        return this._messages.pipe(this._R.filter((m) => m.type === name));
    }
    send(message) {
        const text = JSON.stringify([1, this._nextId++, message]);
        if (this._socket?.readyState === WebSocket.OPEN) {
            this.sent.push(text);
            this._socket.send(text);
        }
    }
    connect() {
        this._wanted = true;
        this._open();
    }
    disconnect() {
        this._wanted = false;
        clearTimeout(this._timer);
        this._socket?.close();
    }
    _open() {
        const socket = new WebSocket(this._url);
        this._socket = socket;
        socket.on('open', () => this._state.next({ connected: true, info: null }));
        socket.on('message', (data, isBinary) => {
            if (isBinary) {
                return;
            }
            const text = data.toString('utf8');
            this.received.push(text);
            let event;
            try {
                event = JSON.parse(text);
            } catch {
                return;
            }
            if (!Array.isArray(event) || event.length < 3) {
                return;
            }
            if (event[0] === 5) {
                this._onError.next(event[2]);
            } else if (event[0] === 1) {
                this._messages.next(event[2]);
            }
        });
        socket.on('error', () => {});
        socket.on('close', () => {
            if (this._socket !== socket) {
                return;
            }
            if (this._state.value.connected) {
                this._state.next({ connected: false, info: null });
            }
            if (this._wanted) {
                this._timer = setTimeout(() => this._open(), this._reconnectMs);
            }
        });
    }
}
