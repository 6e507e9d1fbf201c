/**
 * Pulumi mocks for the program. The @pulumi/tls mocks return REAL keys,
 * requests and certificates (node-forge), so tests can parse and verify
 * them; the remote commands answer with the facts a Debian host prints.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { renewalWindow } from "../../providers/renewal";
import { TestCa, makeCsr, rsaKeyPem, signCsr } from "./pki";

export interface Recorded {
    type: string;
    name: string;
    inputs: any;
    state: any;
}

/** What the engine is told of a resource besides its inputs: its parent and every resource it waits for, as URNs. */
export interface Registration {
    urn: string;
    type: string;
    name: string;
    parent: string;
    dependencies: string[];
}

export interface MockFacts {
    gid: string;
    family: string;
    containerdVersion: string;
    runc: string;
}

export const DEBIAN_FACTS: MockFacts = { gid: "998", family: "debian", containerdVersion: "1.6.20~ds1", runc: "/usr/sbin/runc" };

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Mocks see secret inputs as wrapped values; unwrap them. */
export function plain(v: any): any {
    if (Array.isArray(v)) {
        return v.map(plain);
    }
    if (v && typeof v === "object") {
        if (v[SECRET_SIG] !== undefined && "value" in v) {
            return plain(v.value);
        }
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    }
    return v;
}

function randomOf(length: number): string {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    return Array.from(crypto.randomBytes(length), (b) => alphabet[b % alphabet.length]).join("");
}

export class ProgramMocks implements pulumi.runtime.Mocks {
    readonly resources: Recorded[] = [];
    facts: MockFacts = DEBIAN_FACTS;
    /** Real stdout of commands, by resource name (the e2e suite runs them on lab nodes). */
    stdoutByName: Record<string, string> = {};
    /**
     * As in a preview: a resource that is not in `memory` yet (new, or with
     * changed inputs) has no outputs, so everything computed from them is
     * unknown. Nothing is remembered.
     */
    preview = false;
    /** A preview of a stack that has nothing yet: no command has run, nothing is known. */
    newStack = false;
    /** Each node's NodeState drift, by resource name (as the last refresh left it); none when absent. */
    driftByName: Record<string, Record<string, string>> = {};
    /** Other stacks a StackReference reads, by `org/project/stack`: read in a preview too, as the engine does. */
    stackReferences: Record<string, { outputs: Record<string, unknown>; secretOutputNames: string[] }> = {};

    /**
     * @param memory outputs by resource name and inputs, shared between runs:
     * like Pulumi state, a resource whose inputs did not change keeps its
     * outputs (keys, certificates, tokens) from one run to the next.
     */
    constructor(
        private readonly ca: TestCa,
        private readonly memory = new Map<string, Record<string, any>>(),
    ) {}

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, any> } {
        const i = plain(args.inputs);
        if (args.type === "pulumi:pulumi:StackReference") {
            const other = this.stackReferences[i.name];
            if (!other) {
                throw new Error(`unknown stack ${i.name}`);
            }
            const state = { name: i.name, ...other };
            this.resources.push({ type: args.type, name: args.name, inputs: i, state });
            return { id: i.name, state };
        }
        const key = `${args.type}::${args.name}::${JSON.stringify(i)}`;
        // In a preview of a stack that exists, a command keeps the outputs it has (no one reads a changed command's output).
        const known = !this.preview || (args.type === "command:remote:Command" && !this.newStack);
        // A node's drift is what the last refresh read, whatever was remembered.
        const extra: Record<string, any> =
            args.type === "pulumi-nodejs:dynamic/hardway:NodeState"
                ? { drift: this.driftByName[args.name] ?? {} }
                : (this.memory.get(key) ?? (known ? this.outputsFor(args, i) : {}));
        if (args.type !== "command:remote:Command" && !this.preview) {
            this.memory.set(key, extra);
        }
        const state = { ...args.inputs, ...extra };
        this.resources.push({ type: args.type, name: args.name, inputs: i, state: plain(state) });
        return { id: args.custom === false ? undefined : `${args.name}-id`, state };
    }

    private outputsFor(args: pulumi.runtime.MockResourceArgs, i: any): Record<string, any> {
        const extra: Record<string, any> = {};
        switch (args.type) {
            case "tls:index/privateKey:PrivateKey":
                extra.privateKeyPem = rsaKeyPem();
                break;
            case "tls:index/certRequest:CertRequest":
                extra.certRequestPem = makeCsr({
                    privateKeyPem: i.privateKeyPem,
                    commonName: i.subject.commonName,
                    organization: i.subject.organization,
                    dnsNames: i.dnsNames,
                    ipAddresses: i.ipAddresses,
                });
                break;
            case "tls:index/locallySignedCert:LocallySignedCert":
                if (i.caPrivateKeyPem !== this.ca.keyPem || i.caCertPem.trim() !== this.ca.certPem.trim()) {
                    throw new Error("LocallySignedCert was not given the stack's CA");
                }
                extra.certPem = signCsr(i.certRequestPem, this.ca, i.allowedUses, i.validityPeriodHours);
                break;
            case "random:index/randomString:RandomString":
            case "random:index/randomPassword:RandomPassword":
                extra.result = randomOf(i.length);
                break;
            case "pulumi-nodejs:dynamic/hardway:Renewal":
                Object.assign(extra, renewalWindow(Date.now(), i.validityHours, i.renewBeforeHours));
                break;
            case "command:remote:Command":
                if (this.stdoutByName[args.name] !== undefined) {
                    extra.stdout = this.stdoutByName[args.name];
                } else if (args.name.endsWith("-system")) {
                    extra.stdout = `hardway: writing /etc/tmpfiles.d/hardway-kubernetes.conf\nHW_FACTS {"gid":"${this.facts.gid}","family":"${this.facts.family}"}\n`;
                } else if (args.name.endsWith("-containerd-install")) {
                    extra.stdout = `HW_FACTS {"containerdVersion":"${this.facts.containerdVersion}","runc":"${this.facts.runc}"}\n`;
                } else {
                    extra.stdout = "";
                }
                extra.stderr = "";
                break;
        }
        return extra;
    }

    /** Each registration's parent and dependencies (explicit `dependsOn` and those its inputs carry), in order. */
    readonly registrations: Registration[] = [];
    /** Each component's registered outputs, by URN. */
    readonly componentOutputs = new Map<string, any>();

    /**
     * Records what the SDK sends the mock monitor beyond a resource's inputs
     * (which `newResource` does not see): its parent, its dependencies and a
     * component's outputs.
     */
    watch(monitor: any): void {
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) =>
            register(req, (err: unknown, resp: any) => {
                if (!err) {
                    this.registrations.push({
                        urn: resp.getUrn(),
                        type: req.getType(),
                        name: req.getName(),
                        parent: req.getParent(),
                        dependencies: req.getDependenciesList(),
                    });
                }
                callback(err, resp);
            });
        const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
        monitor.registerResourceOutputs = (req: any, callback: (err: unknown, resp: any) => void) => {
            this.componentOutputs.set(req.getUrn(), req.getOutputs()?.toJavaScript());
            return registerOutputs(req, callback);
        };
    }

    /** The one registration of that name (and type, where components share their node's name). */
    registered(name: string, type?: string): Registration {
        const found = this.registrations.filter((r) => r.name === name && (type === undefined || r.type === type));
        if (found.length !== 1) {
            throw new Error(`${found.length} registrations named ${name}${type ? ` of type ${type}` : ""}`);
        }
        return found[0];
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        throw new Error(`unexpected call to ${args.token}`);
    }

    ofType(type: string): Recorded[] {
        return this.resources.filter((r) => r.type === type);
    }

    named(name: string): Recorded {
        const r = this.resources.find((x) => x.name === name);
        if (!r) {
            throw new Error(`no resource named ${name}; have: ${this.resources.map((x) => x.name).join(", ")}`);
        }
        return r;
    }
}
