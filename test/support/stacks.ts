/** The committed stack files (Pulumi.<stack>.yaml). */
import { execFileSync } from "child_process";
import * as path from "path";

const REPO = path.resolve(__dirname, "../..");

/**
 * The stack files in the repository (git's list: the lab's, e2e's and bench's
 * own are ignored files). A copy of the project inside an ignored directory of
 * the checkout (Stryker's sandbox under .stryker-tmp/) holds the same files:
 * git is asked at the checkout's top.
 */
export function stackFiles(): string[] {
    const top = execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd: REPO, encoding: "utf8" }).trim();
    const inCopy = path.relative(top, REPO).split(path.sep)[0] === ".stryker-tmp";
    const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "--", "Pulumi.*.yaml"], { cwd: inCopy ? top : REPO, encoding: "utf8" });
    return listed
        .split("\n")
        .filter((f) => /^Pulumi\.[^/]+\.yaml$/.test(f))
        .sort();
}

export const stackNameOf = (file: string) => file.replace(/^Pulumi\.(.+)\.yaml$/, "$1");
