// The console's live connection: one websocket to /ws that resumes where it left off after any drop.
//
// Every event moves `lastId` forward; a reconnect asks for what came after it, so nothing is missed. When the
// server cannot replay (history gone, or the client fell behind) it says `resync`, and every page reloads its
// state over HTTP. A ping every few seconds notices a dead connection the browser would not.

const PING_EVERY_MS = 5000;
const PONG_WITHIN_MS = 4000;
const BACKOFF_MS = [250, 500, 1000, 2000, 3000];

export class Live {
  constructor(url = "/ws") {
    this.url = url;
    this.lastId = null;
    this.status = "connecting";
    this.handlers = new Map(); // topic (or prefix ending in "*") -> Set of functions
    this.statusHandlers = new Set();
    this.resyncHandlers = new Set();
    this.attempt = 0;
    this.socket = null;
    this.stopped = false;
  }

  // Call fn(data, topic, event) for each event whose topic matches ("ride.*" matches every ride topic).
  on(topic, fn) {
    if (!this.handlers.has(topic)) this.handlers.set(topic, new Set());
    this.handlers.get(topic).add(fn);
    return () => this.handlers.get(topic).delete(fn);
  }
  onStatus(fn) { this.statusHandlers.add(fn); fn(this.status); }
  // Called when what the page shows may be out of date: reload it over HTTP.
  onResync(fn) { this.resyncHandlers.add(fn); }

  start() { this.stopped = false; this.connect(); }
  stop() { this.stopped = true; this.socket?.close(); }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = this.lastId ? `${this.url.includes("?") ? "&" : "?"}last_id=${encodeURIComponent(this.lastId)}` : "";
    const socket = new WebSocket(`${scheme}://${location.host}${this.url}${query}`);
    this.socket = socket;
    let pingTimer, pongTimer;
    const resumed = this.lastId !== null;
    socket.onmessage = (message) => {
      const msg = JSON.parse(message.data);
      if (msg.type === "hello") {
        this.attempt = 0;
        if (!resumed) this.lastId = msg.last_id;
        this.setStatus("online");
        // A first connection (or one after the page lost track) starts from fresh state.
        if (!resumed) this.fireResync("connected");
      } else if (msg.type === "event") {
        this.lastId = msg.id;
        this.dispatch(msg);
      } else if (msg.type === "resync") {
        this.fireResync(msg.reason);
      } else if (msg.type === "pong") {
        clearTimeout(pongTimer);
      }
    };
    socket.onopen = () => {
      pingTimer = setInterval(() => {
        if (socket.readyState !== WebSocket.OPEN) return;
        socket.send(JSON.stringify({ type: "ping" }));
        clearTimeout(pongTimer);
        pongTimer = setTimeout(() => socket.close(), PONG_WITHIN_MS);
      }, PING_EVERY_MS);
    };
    socket.onclose = () => {
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      if (this.socket !== socket) return;
      this.setStatus("offline");
      if (this.stopped) return;
      const wait = BACKOFF_MS[Math.min(this.attempt++, BACKOFF_MS.length - 1)];
      setTimeout(() => this.connect(), wait);
    };
  }

  // Drop the connection now and come straight back (the browser says the network is back, say).
  reconnect() {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close();
  }

  dispatch(msg) {
    for (const [topic, fns] of this.handlers) {
      const match = topic === msg.topic || (topic.endsWith("*") && msg.topic.startsWith(topic.slice(0, -1)));
      if (match) fns.forEach((fn) => fn(msg.data, msg.topic, msg));
    }
  }

  fireResync(reason) { this.resyncHandlers.forEach((fn) => fn(reason)); }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.statusHandlers.forEach((fn) => fn(status));
  }
}
