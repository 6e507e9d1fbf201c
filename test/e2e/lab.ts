/** Driving lab nodes from the outside: SSH like the command provider, nsenter to inspect. */
import { spawn, spawnSync } from "child_process";
import * as path from "path";
import { LabNode, REPO, readLab } from "../../scripts/labstack";

export const lab = () => readLab();

export interface RunResult {
    status: number | null;
    stdout: string;
    stderr: string;
}

/**
 * Runs a command text on a node over SSH, as @pulumi/command's remote.Command
 * does: the text goes to the login shell, secrets on stdin; the host key is
 * pinned.
 */
export function sshRun(node: LabNode, command: string, stdin = "", opts: { killAfterStderr?: RegExp; hostKeyAlias?: string } = {}): Promise<RunResult> {
    const l = lab();
    return new Promise((resolve, reject) => {
        const child = spawn(
            "ssh",
            [
                "-i", l.sshPrivateKeyFile,
                "-o", `UserKnownHostsFile=${l.knownHostsFile}`,
                "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=15",
                // A node reached at another of its addresses: its host key is known under the first.
                ...(opts.hostKeyAlias ? ["-o", `HostKeyAlias=${opts.hostKeyAlias}`] : []),
                "-p", String(node.sshPort),
                `root@${node.sshHost}`,
                command,
            ],
            { stdio: ["pipe", "pipe", "pipe"] },
        );
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => {
            stderr += d;
            if (opts.killAfterStderr && opts.killAfterStderr.test(stderr)) {
                child.kill("SIGKILL");
            }
        });
        child.on("error", reject);
        child.on("close", (status) => {
            clearTimeout(timer);
            resolve({ status, stdout, stderr });
        });
        child.stdin.end(stdin);
    });
}

/** Runs a command inside a node through nsenter (lab/exec.sh), outside of SSH. */
export function nodeExec(node: string, script: string): string {
    const r = spawnSync(path.join(REPO, "lab", "exec.sh"), [node, "bash", "-c", script], { encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error(`lab/exec.sh ${node} failed (${r.status}): ${script}\n${r.stderr}`);
    }
    return r.stdout;
}

export function labScript(name: string, ...args: string[]): string {
    const r = spawnSync(path.join(REPO, "lab", name), args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0) {
        throw new Error(`lab/${name} ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
    }
    return r.stdout;
}

/** SSH sessions the node's sshd has accepted since it booted (its journal's "Accepted publickey" lines). */
export function sshSessions(node: string): number {
    return Number(nodeExec(node, "journalctl -u ssh.service --no-pager -o cat | grep -c '^Accepted publickey' || true").trim());
}
