/**
 * A dedicated worker's global scope, typed by the messages it takes and sends. The project
 * type-checks with the DOM's types, where `self` is a Window; this is the part of a worker's
 * scope the playground's workers use.
 */
export interface WorkerScope<In, Out> {
  onmessage: ((event: MessageEvent<In>) => void) | null;
  /** Posts `message`, handing over `transfer`'s buffers (no copy). */
  post(message: Out, transfer?: Transferable[]): void;
}

export function workerScope<In, Out>(): WorkerScope<In, Out> {
  const self = globalThis as unknown as { onmessage: WorkerScope<In, Out>['onmessage']; postMessage(m: Out, transfer: Transferable[]): void };
  return {
    get onmessage() { return self.onmessage; },
    set onmessage(handler) { self.onmessage = handler; },
    post: (message, transfer = []) => self.postMessage(message, transfer),
  };
}
