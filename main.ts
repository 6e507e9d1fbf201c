/**
 * The program's entry point (Pulumi.yaml's main: bin/main.js). With
 * `controlPlaneStack` set it first reads the control plane stack's outputs
 * (a StackReference; the config is validated synchronously after that),
 * then runs the program, index.ts, whose exports are the stack outputs.
 */
import { readControlPlane } from "./components/config/read";

export = async (): Promise<Record<string, unknown>> => {
    await readControlPlane();
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require("./index") as Record<string, unknown>;
};
