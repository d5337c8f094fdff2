import { rmSync } from "node:fs";
import { StorageV1Api, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestNamespace, waitFor } from "../testing/index.js";
import { NODE_IMAGE } from "./http-server.js";

/** Parses `key=value` lines a pod wrote to its termination message. */
function report(message: string | undefined): Record<string, string> {
  return Object.fromEntries(
    (message ?? "")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

describe("what a container sees", () => {
  const { cluster, ns } = useTestNamespace("podenv");
  const pvName = `churn-test-pv-${process.pid}`;
  const pvPath = `/tmp/${pvName}`;

  beforeAll(async () => {
    await cluster.core.createNamespacedConfigMap({
      namespace: ns(),
      body: { metadata: { name: "settings" }, data: { mode: "fast", "app.conf": "threshold=0.5" } },
    });
    await cluster.core.createNamespacedSecret({
      namespace: ns(),
      body: { metadata: { name: "creds" }, stringData: { password: "s3cret" } },
    });
  });
  afterAll(async () => {
    try {
      await cluster.core.deletePersistentVolume({ name: pvName });
    } catch {}
    if (cluster.flavour === "process") rmSync(pvPath, { recursive: true, force: true });
  });

  const finished = (name: string) =>
    waitFor(`pod ${name} to finish`, async () => {
      const p = await cluster.core.readNamespacedPod({ name, namespace: ns() });
      return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p : undefined;
    });
  const message = (p: V1Pod) => p.status?.containerStatuses?.[0]?.state?.terminated?.message;

  it("gets env from values, fields, ConfigMaps and Secrets, and volumes at their mount paths", async () => {
    const script = [
      "{",
      'echo "GREETING=$GREETING"',
      'echo "POD=$POD_NAME"',
      'echo "IP=$POD_IP"',
      'echo "MODE=$MODE"',
      'echo "PASSWORD=$PASSWORD"',
      'echo "PREFIXED=$CFG_mode"',
      'echo "PWD=$(pwd)"',
      'echo "CONF=$(cat /etc/app/app.conf)"',
      'echo "SECRET_FILE=$(cat /etc/creds/password)"',
      'echo "LABELS=$(cat /etc/podinfo/labels)"',
      'echo "SHARED=$(cat /work/from-init)"',
      'echo "SA_NAMESPACE=$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)"',
      'echo "SA_TOKEN=$(test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo present)"',
      'echo "SA_CA=$(grep -c "BEGIN CERTIFICATE" /var/run/secrets/kubernetes.io/serviceaccount/ca.crt)"',
      'echo "API=$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"',
      "} > /dev/termination-log",
    ].join("\n");
    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: {
        metadata: { name: "env", labels: { team: "churn" } },
        spec: {
          restartPolicy: "Never",
          volumes: [
            {
              name: "app",
              configMap: { name: "settings", items: [{ key: "app.conf", path: "app.conf" }] },
            },
            { name: "creds", secret: { secretName: "creds" } },
            {
              name: "podinfo",
              downwardAPI: {
                items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }],
              },
            },
            { name: "work", emptyDir: {} },
          ],
          initContainers: [
            {
              name: "prepare",
              image: "busybox:1.36",
              command: ["sh", "-c", "echo hello-from-init > /work/from-init"],
              volumeMounts: [{ name: "work", mountPath: "/work" }],
            },
          ],
          containers: [
            {
              name: "main",
              image: "busybox:1.36",
              command: ["sh", "-c", script],
              workingDir: "/work",
              env: [
                { name: "WHO", value: "churn" },
                { name: "GREETING", value: "hello $(WHO)" },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                { name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } },
                {
                  name: "PASSWORD",
                  valueFrom: { secretKeyRef: { name: "creds", key: "password" } },
                },
              ],
              envFrom: [{ prefix: "CFG_", configMapRef: { name: "settings" } }],
              volumeMounts: [
                { name: "app", mountPath: "/etc/app", readOnly: true },
                { name: "creds", mountPath: "/etc/creds", readOnly: true },
                { name: "podinfo", mountPath: "/etc/podinfo" },
                { name: "work", mountPath: "/work" },
              ],
            },
          ],
        },
      },
    });
    const pod = await finished("env");
    expect(pod.status?.phase).toBe("Succeeded");
    const r = report(message(pod));
    expect(r.GREETING).toBe("hello churn");
    expect(r.POD).toBe("env");
    expect(r.IP).toBe(pod.status?.podIP);
    expect(r.MODE).toBe("fast");
    expect(r.PASSWORD).toBe("s3cret");
    expect(r.PREFIXED).toBe("fast");
    expect(r.PWD).toBe("/work");
    expect(r.CONF).toBe("threshold=0.5");
    expect(r.SECRET_FILE).toBe("s3cret");
    expect(r.LABELS).toBe('team="churn"');
    expect(r.SHARED).toBe("hello-from-init");
    expect(r.SA_NAMESPACE).toBe(ns());
    expect(r.SA_TOKEN).toBe("present");
    expect(Number(r.SA_CA)).toBeGreaterThanOrEqual(1);
    expect(r.API).toMatch(/^[\d.]+:\d+$/);
    const init = pod.status?.initContainerStatuses?.[0]?.state?.terminated;
    expect(init?.exitCode).toBe(0);
  });

  it("talks to the apiserver with its own service account identity", async () => {
    await cluster.rbac.createNamespacedRole({
      namespace: ns(),
      body: {
        metadata: { name: "read-settings" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }],
      },
    });
    await cluster.rbac.createNamespacedRoleBinding({
      namespace: ns(),
      body: {
        metadata: { name: "read-settings" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-settings" },
        subjects: [{ kind: "ServiceAccount", name: "default", namespace: ns() }],
      },
    });
    const script = `
const fs = require('fs'); const https = require('https');
const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
const get = (path) => new Promise((resolve, reject) => https.get({
  host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT, path,
  ca: fs.readFileSync(dir + '/ca.crt'),
  headers: { Authorization: 'Bearer ' + fs.readFileSync(dir + '/token', 'utf8') },
}, (res) => { let b = ''; res.on('data', (d) => b += d); res.on('end', () => resolve(res.statusCode + ' ' + b)); }).on('error', reject));
(async () => {
  const ns = fs.readFileSync(dir + '/namespace', 'utf8');
  const allowed = await get('/api/v1/namespaces/' + ns + '/configmaps/settings');
  const denied = await get('/api/v1/namespaces/' + ns + '/secrets/creds');
  fs.writeFileSync('/dev/termination-log', 'ALLOWED=' + allowed.split(' ')[0] + '\\nMODE=' + JSON.parse(allowed.slice(4)).data.mode + '\\nDENIED=' + denied.split(' ')[0] + '\\nDENIED_USER=' + (JSON.parse(denied.slice(4)).message.match(/User "([^"]+)"/) || [])[1] + '\\n');
})().catch((e) => { fs.writeFileSync('/dev/termination-log', 'ERROR=' + e.message); process.exit(1); });
`;
    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: {
        metadata: { name: "identity" },
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "main", image: NODE_IMAGE, command: ["node", "-e", script] }],
        },
      },
    });
    const pod = await finished("identity");
    const r = report(message(pod));
    expect(r.ERROR).toBeUndefined();
    expect(r.ALLOWED).toBe("200");
    expect(r.MODE).toBe("fast");
    expect(r.DENIED).toBe("403");
    expect(r.DENIED_USER).toBe(`system:serviceaccount:${ns()}:default`);
  });

  it("gets a volume provisioned for a claim that names no StorageClass", async () => {
    await cluster.core.createNamespacedPersistentVolumeClaim({
      namespace: ns(),
      body: {
        metadata: { name: "dynamic" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "16Mi" } } },
      },
    });
    const writer: V1Pod = {
      metadata: { name: "dynamic-writer" },
      spec: {
        restartPolicy: "Never",
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: "dynamic" } }],
        containers: [
          {
            name: "main",
            image: "busybox:1.36",
            command: [
              "sh",
              "-c",
              'echo provisioned > /data/f && echo "READ=$(cat /data/f)" > /dev/termination-log',
            ],
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          },
        ],
      },
    };
    await cluster.core.createNamespacedPod({ namespace: ns(), body: writer });
    const pod = await finished("dynamic-writer");
    expect(report(message(pod)).READ).toBe("provisioned");
    const pvc = await cluster.core.readNamespacedPersistentVolumeClaim({
      name: "dynamic",
      namespace: ns(),
    });
    expect(pvc.status?.phase).toBe("Bound");
    const classes = await cluster.kc.makeApiClient(StorageV1Api).listStorageClass();
    const defaultClass = classes.items.find(
      (c) => c.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
    );
    expect(pvc.spec?.storageClassName).toBe(defaultClass?.metadata?.name);
  });

  it("keeps data on a PersistentVolumeClaim across pods", async () => {
    await cluster.core.createPersistentVolume({
      body: {
        metadata: { name: pvName },
        spec: {
          capacity: { storage: "10Mi" },
          accessModes: ["ReadWriteOnce"],
          persistentVolumeReclaimPolicy: "Retain",
          storageClassName: "",
          hostPath: { path: pvPath, type: "DirectoryOrCreate" },
          claimRef: { namespace: ns(), name: "data" },
        },
      },
    });
    await cluster.core.createNamespacedPersistentVolumeClaim({
      namespace: ns(),
      body: {
        metadata: { name: "data" },
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: "",
          volumeName: pvName,
          resources: { requests: { storage: "10Mi" } },
        },
      },
    });
    const pod = (name: string, script: string): V1Pod => ({
      metadata: { name },
      spec: {
        restartPolicy: "Never",
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }],
        containers: [
          {
            name: "main",
            image: "busybox:1.36",
            command: ["sh", "-c", script],
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          },
        ],
      },
    });
    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: pod("writer", `echo ${ns()} > /data/owner`),
    });
    expect((await finished("writer")).status?.phase).toBe("Succeeded");
    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: pod("reader", 'echo "OWNER=$(cat /data/owner)" > /dev/termination-log'),
    });
    const reader = await finished("reader");
    expect(report(message(reader)).OWNER).toBe(ns());
  });
});
