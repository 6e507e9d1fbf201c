/** The one way this program runs something on a node. */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as remote from "@pulumi/command/remote";
import { NodeConfig, WorkerConfig } from "../config/types";
import { repairMarker } from "../../providers/driftReport";
import { hostCleanupScript, hostTriggers, withOwner } from "./owner";
import { stdinOf } from "./scripts";

export function connectionFor(node: NodeConfig, cluster: WorkerConfig): command.types.input.remote.ConnectionArgs {
    return {
        host: node.sshHost,
        port: node.sshPort,
        user: cluster.sshUser,
        privateKey: cluster.sshPrivateKey,
        // Pinned when given: the provider ignores host keys otherwise.
        ...(node.hostKey ? { hostKey: node.hostKey } : {}),
        dialErrorLimit: 20,
        perDialTimeout: 15,
    };
}

export interface NodeCommandArgs {
    connection: command.types.input.remote.ConnectionArgs;
    /** Whose journals the command keeps on the host (ownerOf the node); see owner.ts. */
    owner: string;
    create: pulumi.Input<string>;
    delete: string;
    /** Secret values by name, sent on stdin (stdinOf); the script reads the same names (HW_SECRETS). */
    secrets?: Record<string, pulumi.Input<string>>;
    /** Per phase, the drift last seen on the node (NodeContext.drift); see withRepairMarker. */
    drift?: pulumi.Input<Record<string, string>>;
}

/**
 * The create text with the drift last seen in its phase (the script's
 * HW_COMPONENT) as a trailing comment: new drift changes the text, so
 * `pulumi up` runs the phase again; no drift, no comment.
 */
export function withRepairMarker(create: string, drift: Record<string, string> | undefined): string {
    const phase = /^HW_COMPONENT=(\S+)$/m.exec(create)?.[1];
    return create + repairMarker(phase === undefined ? undefined : drift?.[phase]);
}

/** The secrets a phase's script reads (secretNames of its files) must be exactly the ones its command sends. */
export function checkSecrets(command: string, reads: string[], sends: Record<string, unknown>): void {
    const sent = Object.keys(sends).sort();
    if (reads.join(",") !== sent.join(",")) {
        throw new Error(`${command}: its script reads the secrets [${reads.join(", ")}] but the command sends [${sent.join(", ")}]`);
    }
}

/**
 * A remote command whose `create` is idempotent: a change to any input runs
 * the new `create`, which converges the node; `delete` undoes its journal.
 */
export function nodeCommand(name: string, args: NodeCommandArgs, opts: pulumi.CustomResourceOptions): remote.Command {
    const stdin =
        args.secrets && Object.keys(args.secrets).length > 0 ? pulumi.secret(pulumi.all(args.secrets).apply(stdinOf)) : undefined;
    return new remote.Command(
        name,
        {
            connection: args.connection,
            create: pulumi
                .all([args.create, args.drift ?? {}])
                .apply(([text, drift]) => withOwner(args.owner, withRepairMarker(text, drift))),
            delete: withOwner(args.owner, args.delete),
            stdin,
            // The previous stdout would be passed through sshd's AcceptEnv, which stock sshd refuses.
            addPreviousOutputInEnv: false,
        },
        // The same files and units are touched by old and new: never run both.
        { deleteBeforeReplace: true, ...opts },
    );
}

/**
 * The node's binding to its host. It runs nothing when it is created (no
 * SSH session); its delete cleans everything its owner has on the host. A
 * new address (sshHost, sshPort) replaces it, delete first, on the old
 * address: the old host is cleaned before the node's commands run on the new
 * one. The node's first phase depends on it. An old host that cannot be
 * reached fails the update, naming the node's binding and the address;
 * `forgetOldHost` (the old address) lets the update go on without cleaning it.
 */
export function hostBinding(name: string, node: NodeConfig, connection: command.types.input.remote.ConnectionArgs, owner: string, opts: pulumi.CustomResourceOptions): remote.Command {
    return new remote.Command(
        name,
        {
            // An unreachable old host fails within a minute, not after the phases' 20 dial attempts.
            connection: { ...connection, dialErrorLimit: 4 },
            delete: node.forgetOldHost ? undefined : hostCleanupScript(owner),
            triggers: hostTriggers(node),
            addPreviousOutputInEnv: false,
        },
        { deleteBeforeReplace: true, ...opts },
    );
}
