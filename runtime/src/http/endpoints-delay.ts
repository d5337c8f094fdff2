/** Waits `seconds` (logging it) so load balancers stop sending before the listener closes. */
export async function endpointsDelay(
  seconds: number,
  logger: { info(msg: string, fields?: Record<string, unknown>): void },
): Promise<void> {
  if (seconds <= 0) return;
  logger.info("unready; still answering while endpoints update", { seconds });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}
