/** The committed stack files (Pulumi.<stack>.yaml). */
import { execFileSync } from "child_process";
import * as path from "path";

const REPO = path.resolve(__dirname, "../..");

/** The stack files in the repository (git's list: the lab's, e2e's and bench's own are ignored files). */
export function stackFiles(): string[] {
    const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "--", "Pulumi.*.yaml"], { cwd: REPO, encoding: "utf8" });
    return listed
        .split("\n")
        .filter((f) => /^Pulumi\.[^/]+\.yaml$/.test(f))
        .sort();
}

export const stackNameOf = (file: string) => file.replace(/^Pulumi\.(.+)\.yaml$/, "$1");
