/**
 * The program's entry point (Pulumi.yaml's main: bin/main.js). With
 * `controlPlaneStack` set it first reads the control plane stack's outputs
 * (a StackReference; the config is validated synchronously after that),
 * then runs the program, index.ts, whose exports are the stack outputs
 * (those left undefined, like controlPlaneVersion without a control plane
 * stack, are left out).
 */
import { readControlPlane } from "./components/config/read";

export = async (): Promise<Record<string, unknown>> => {
    await readControlPlane();
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const outputs = require("./index") as Record<string, unknown>;
    return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined));
};
