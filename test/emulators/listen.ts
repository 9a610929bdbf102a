import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Listens on host:port (0 picks a free port) and resolves with the bound port; rejects on a listen error. */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
