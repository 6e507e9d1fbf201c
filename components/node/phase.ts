/** What every phase's component gets from WorkerNode. */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { NodeConfig, WorkerConfig } from "../config/types";

/** What every phase of a node needs to know. */
export interface NodeContext {
    node: NodeConfig;
    cluster: WorkerConfig;
    connection: command.types.input.remote.ConnectionArgs;
    /** Whose journals the node's commands keep on the host (owner.ts). */
    owner: string;
    /** Per phase, the drift last seen on the node (NodeState): new drift runs that phase's command again. */
    drift?: pulumi.Output<Record<string, string>>;
}

/** Children of a component do not inherit its dependsOn, so each phase takes its own. */
export interface PhaseArgs {
    ctx: NodeContext;
    /** What must be on the node before this phase runs. */
    after?: pulumi.Resource[];
}
