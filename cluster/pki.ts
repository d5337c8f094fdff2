import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A certificate and its private key, as PEM file paths. */
export interface KeyPair {
  cert: string;
  key: string;
}

/** What a leaf certificate says about its holder. */
export interface CertificateRequest {
  /** File name stem inside the PKI directory. */
  name: string;
  commonName: string;
  organizations?: string[];
  /** Serving certificates list the names and IPs clients dial. */
  dnsNames?: string[];
  ips?: string[];
  usage: "client" | "server" | "both";
}

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim()}`);
  }
}

function newKey(path: string): void {
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path]);
}

/** A self-signed cluster CA plus leaf certificates signed by it, generated with the openssl CLI. */
export class ClusterPki {
  readonly ca: KeyPair;

  constructor(readonly dir: string) {
    this.ca = { cert: join(dir, "ca.crt"), key: join(dir, "ca.key") };
  }

  /** Creates the CA once; later calls keep it so issued kubeconfigs stay valid. */
  ensureCa(): KeyPair {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (existsSync(this.ca.cert) && existsSync(this.ca.key)) return this.ca;
    newKey(this.ca.key);
    openssl([
      "req",
      "-x509",
      "-new",
      "-key",
      this.ca.key,
      "-subj",
      "/CN=churn-local-cluster-ca",
      "-days",
      "3650",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
      "-out",
      this.ca.cert,
    ]);
    return this.ca;
  }

  /** Issues (or reuses) a leaf certificate signed by the cluster CA. */
  issue(req: CertificateRequest): KeyPair {
    const pair = {
      cert: join(this.dir, `${req.name}.crt`),
      key: join(this.dir, `${req.name}.key`),
    };
    if (existsSync(pair.cert) && existsSync(pair.key)) return pair;
    newKey(pair.key);
    const subject = [...(req.organizations ?? []).map((o) => `/O=${o}`), `/CN=${req.commonName}`];
    const eku = { client: "clientAuth", server: "serverAuth", both: "clientAuth,serverAuth" };
    const args = [
      "req",
      "-x509",
      "-new",
      "-key",
      pair.key,
      "-subj",
      subject.join(""),
      "-CA",
      this.ca.cert,
      "-CAkey",
      this.ca.key,
      "-days",
      "365",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "-addext",
      `extendedKeyUsage=${eku[req.usage]}`,
    ];
    const sans = [
      ...(req.dnsNames ?? []).map((d) => `DNS:${d}`),
      ...(req.ips ?? []).map((ip) => `IP:${ip}`),
    ];
    if (sans.length > 0) args.push("-addext", `subjectAltName=${sans.join(",")}`);
    openssl([...args, "-out", pair.cert]);
    return pair;
  }

  /** The key pair the apiserver signs service-account tokens with (and verifies them by). */
  serviceAccountKey(): { key: string; pub: string } {
    const key = join(this.dir, "sa.key");
    const pub = join(this.dir, "sa.pub");
    if (!existsSync(key)) newKey(key);
    if (!existsSync(pub)) openssl(["pkey", "-in", key, "-pubout", "-out", pub]);
    return { key, pub };
  }

  /** The CA certificate as PEM text (for kubeconfigs and pods' ca.crt). */
  caPem(): string {
    return readFileSync(this.ca.cert, "utf8");
  }
}
