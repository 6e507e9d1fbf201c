/**
 * Who owns what on a host. Each node identity of the stack config (its name)
 * keeps its own journals on the host, under
 * `/var/lib/hardway-workers/owners/<owner>/<phase>/journal`; the library
 * (hardway.sh) takes over what another owner's journal already claims and
 * never undoes what another owner still claims. So a node renamed in the
 * config (the new name's resources are created before the old name's are
 * deleted) keeps working, and a node moved to another address of the same
 * host leaves nothing of its old binding behind.
 *
 * Pure: plain values in, text out.
 */
import type { NodeConfig } from "../config/types";
import { LIBRARY_PATH, nodeScript, shq } from "./scripts";

/** Where the library keeps its journals on a node. */
export const JOURNAL_ROOT = "/var/lib/hardway-workers";

/** The owner of a node's journals: its name in the stack config. */
export function ownerOf(node: Pick<NodeConfig, "name">): string {
    return node.name;
}

/** The journal of one phase of one owner (the library computes the same path from HW_OWNER and HW_COMPONENT). */
export function journalPath(owner: string | undefined, component: string, root = JOURNAL_ROOT): string {
    return owner ? `${root}/owners/${owner}/${component}/journal` : `${root}/${component}/journal`;
}

/** A node command's text, run as `owner`: the library reads HW_OWNER from its environment. */
export function withOwner(owner: string, command: string): string {
    return `HW_OWNER=${shq(owner)} ${command}`;
}

/** The pseudo-phase of the host binding (its lock and state directory while it runs). */
export const HOST_COMPONENT = "host";

/**
 * The host binding's delete: undoes every phase this owner has on the host,
 * last phase first, and removes the node library when no other owner is
 * left. A host without the library has nothing of this program: nothing to do.
 */
export function hostCleanupScript(owner: string): string {
    return withOwner(owner, nodeScript(HOST_COMPONENT, ["hw_undo_owner"], [], [`[ -f ${LIBRARY_PATH} ] || exit 0`]));
}

/** The address a node's commands reach it at: `host:port`. */
export function addressOf(node: Pick<NodeConfig, "sshHost" | "sshPort">): string {
    return `${node.sshHost}:${node.sshPort}`;
}

/**
 * The host binding's triggers: its address. A new address replaces the
 * binding, and its delete (run first, on the old address) cleans the old
 * host. With `forgetOldHost` (the old address, which cannot be reached),
 * the triggers stay at that address, so the binding is only updated: it
 * moves to the new address with nothing to clean.
 */
export function hostTriggers(node: Pick<NodeConfig, "sshHost" | "sshPort" | "forgetOldHost">): string[] {
    return [node.forgetOldHost ?? addressOf(node)];
}
