// Helpers for integration suites that run on the local cluster or on kind.
export {
  containerLog,
  containerProcessId,
  killContainerProcess,
  processGone,
} from "./container-control.js";
export { httpGet } from "./http-get.js";
export {
  createTestNamespace,
  deleteTestNamespace,
  noProcessNode,
  type TestCluster,
  testCluster,
  useTestNamespace,
} from "./test-cluster.js";
export { type WaitOptions, waitFor } from "./wait-for.js";
