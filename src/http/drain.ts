// Graceful drain: which sockets are busy, and since when the others have been idle.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How long an idle connection is kept during a drain, for a request already on its way. */
const IDLE_GRACE_MS = 300;

export interface ConnectionTracker {
  /** Counts the request on its socket until the response closes. */
  track(req: IncomingMessage, res: ServerResponse): void;
  /** Stops accepting connections, lets in-flight requests finish, then resolves. */
  drain(timeoutMs: number): Promise<void>;
}

export function trackConnections(server: Server): ConnectionTracker {
  const sockets = new Map<Socket, { active: number; idleSince: number }>();
  let draining = false;
  let lastConnectionAt = 0;

  // One listener for every response (none made per request): the request's socket names its state.
  function responseClosed(this: ServerResponse) {
    const socketState = sockets.get(this.req.socket);
    if (socketState) {
      socketState.active--;
      socketState.idleSince = Date.now();
    }
  }

  server.on('connection', (socket: Socket) => {
    lastConnectionAt = Date.now();
    sockets.set(socket, { active: 0, idleSince: lastConnectionAt });
    socket.on('close', () => sockets.delete(socket));
  });

  return {
    track(req, res) {
      const socketState = sockets.get(req.socket);
      if (socketState) socketState.active++;
      if (draining) res.setHeader('connection', 'close');
      res.on('close', responseClosed);
    },
    drain(timeoutMs) {
      draining = true;
      // Node's close() drops idle keep-alive sockets at once, and closing the listening socket
      // resets connections still in the kernel's accept queue (a busy loop, e.g. PGlite's,
      // accepts slowly): requests a client sent before SIGTERM would be lost. So the listener
      // stays open until no connection has arrived for a grace period, every response says
      // `Connection: close`, and idle sockets are retired once idle for that period too.
      server.closeIdleConnections = () => {};
      return new Promise<void>((resolve) => {
        const deadline = Date.now() + timeoutMs;
        let listening = true;
        const step = () => {
          const now = Date.now();
          if (listening && (now > deadline || now - lastConnectionAt > IDLE_GRACE_MS)) {
            listening = false;
            server.close();
          }
          for (const [socket, state] of sockets) {
            if (now > deadline || (state.active === 0 && now - state.idleSince > IDLE_GRACE_MS)) socket.destroy();
          }
          if (!listening && sockets.size === 0) {
            clearInterval(poll);
            resolve();
          }
        };
        // setImmediate runs right after the poll phase, so connections and bytes that arrived
        // while the loop was busy have been accepted and parsed before we look.
        const poll = setInterval(() => setImmediate(step), 25);
      });
    },
  };
}
