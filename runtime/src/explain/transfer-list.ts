// Which buffers to move (not copy) between threads.

/**
 * Transferring a buffer (detaching it) costs more than copying a small one, so only large
 * payloads are transferred.
 */
export function transferList(data: Float32Array | Float64Array): ArrayBuffer[] {
  return data.byteLength >= 64 * 1024 ? [data.buffer as ArrayBuffer] : [];
}
