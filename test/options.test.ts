/**
 * Resource options, which Pulumi's mocks do not pass to newResource: each
 * registration request is recorded as the mock monitor receives it (the
 * replacement trigger, delete-before-replace, the dependencies), with the
 * whole program run under mocks.
 */
import { strict as assert } from "assert";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { ProgramRun, GUIDE_NODES, baseConfig, runProgram } from "./support/program";

interface Registered {
    type: string;
    name: string;
    replacementTrigger: unknown;
    deleteBeforeReplace: boolean;
    dependencies: string[];
}

/** Runs the program, recording every registration request's options. */
async function runRecordingOptions(config: Record<string, unknown>): Promise<{ run: ProgramRun; registered: Map<string, Registered> }> {
    const registered = new Map<string, Registered>();
    const proto = MockMonitor.prototype as any;
    const original = proto.registerResource;
    proto.registerResource = function (req: any, callback: unknown) {
        registered.set(req.getName(), {
            type: req.getType(),
            name: req.getName(),
            replacementTrigger: req.getReplacementTrigger()?.toJavaScript(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            dependencies: req.getDependenciesList(),
        });
        return original.call(this, req, callback);
    };
    try {
        const run = await runProgram(config);
        return { run, registered };
    } finally {
        proto.registerResource = original;
    }
}

/** The name in a URN (its last `::` part). */
const nameOf = (urn: string) => urn.split("::").pop()!;

describe("resource options, as the engine receives them", () => {
    let run: ProgramRun;
    let registered: Map<string, Registered>;
    before(async () => {
        ({ run, registered } = await runRecordingOptions(baseConfig()));
    });

    const certificates = GUIDE_NODES.flatMap((n) => [`${n.name}-kubelet-serving`, `${n.name}-kube-proxy-client`]);

    it("each certificate's private key is replaced when its Renewal issues anew: its replacement trigger is the Renewal's issuedAt", () => {
        for (const cert of certificates) {
            const key = registered.get(`${cert}-key`)!;
            assert.equal(key.type, "tls:index/privateKey:PrivateKey");
            const issuedAt = run.mocks.named(`${cert}-renewal`).state.issuedAt;
            assert.match(issuedAt, /^\d{4}-\d\d-\d\dT/);
            assert.equal(key.replacementTrigger, issuedAt, `${cert}-key`);
        }
    });

    it("the request and the certificate have no trigger of their own: they follow the key", () => {
        for (const cert of certificates) {
            for (const child of [`${cert}-csr`, `${cert}-cert`]) {
                assert.equal(registered.get(child)!.replacementTrigger, undefined, child);
            }
        }
    });

    it("every node command deletes before it replaces (old and new touch the same files)", () => {
        const commands = [...registered.values()].filter((r) => r.type === "command:remote:Command");
        // Six phases and the host binding per node.
        assert.equal(commands.length, GUIDE_NODES.length * 7);
        for (const c of commands) {
            assert.equal(c.deleteBeforeReplace, true, c.name);
        }
    });

    it("each phase runs after the phases it needs, on its own node", () => {
        const after = (name: string) => registered.get(name)!.dependencies.map(nameOf).filter((d) => /-(system|binaries|containerd-install|containerd-config|kubelet|kube-proxy)$/.test(d)).sort();
        for (const n of GUIDE_NODES.map((x) => x.name)) {
            assert.deepEqual(after(`${n}-system`), [], n);
            assert.deepEqual(after(`${n}-binaries`), [`${n}-system`]);
            assert.deepEqual(after(`${n}-containerd-install`), [`${n}-system`]);
            assert.deepEqual(after(`${n}-containerd-config`), [`${n}-containerd-install`, `${n}-system`]);
            assert.deepEqual(after(`${n}-kubelet`), [`${n}-binaries`, `${n}-containerd-config`]);
            assert.deepEqual(after(`${n}-kube-proxy`), [`${n}-binaries`]);
        }
    });
});
