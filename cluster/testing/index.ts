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
  type TestCluster,
  testCluster,
} from "./test-cluster.js";
export { waitFor } from "./wait-for.js";
