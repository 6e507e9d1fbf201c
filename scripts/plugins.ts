/**
 * The resource plugins this program needs, and whether they are installed
 * where a normal Pulumi install keeps them: `$PULUMI_HOME/plugins` (default
 * `~/.pulumi/plugins`, as `pulumi plugin install` lays them out) or a
 * `pulumi-resource-<name>` binary on PATH. The project never builds or
 * downloads them; on a user's machine `pulumi` downloads them itself.
 *
 *   npx ts-node -T scripts/plugins.ts     prints what is missing; exit 1 if anything is
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const REPO = path.resolve(__dirname, "..");

export interface Plugin {
    name: string;
    version: string;
}

/** The plugin versions the npm packages in node_modules expect (their package.json's `pulumi.version`). */
export function requiredPlugins(repo = REPO): Plugin[] {
    return ["command", "tls", "random"].map((name) => {
        const pkg = JSON.parse(fs.readFileSync(path.join(repo, "node_modules", "@pulumi", name, "package.json"), "utf8"));
        return { name, version: String(pkg.pulumi?.version ?? pkg.version).replace(/^v/, "") };
    });
}

function onPath(binary: string, env = process.env): boolean {
    return (env["PATH"] ?? "").split(path.delimiter).some((dir) => {
        try {
            fs.accessSync(path.join(dir, binary), fs.constants.X_OK);
            return true;
        } catch {
            return false;
        }
    });
}

/** Is this plugin installed? `$PULUMI_HOME/plugins/resource-<name>-v<version>/pulumi-resource-<name>`, or on PATH. */
export function pluginInstalled(p: Plugin, env = process.env): boolean {
    const home = env["PULUMI_HOME"] || path.join(os.homedir(), ".pulumi");
    const bin = path.join(home, "plugins", `resource-${p.name}-v${p.version}`, `pulumi-resource-${p.name}`);
    try {
        fs.accessSync(bin, fs.constants.X_OK);
        return true;
    } catch {
        return onPath(`pulumi-resource-${p.name}`, env);
    }
}

/** The required plugins that are not installed, as `name vX.Y.Z`. */
export function missingPlugins(env = process.env): string[] {
    return requiredPlugins()
        .filter((p) => !pluginInstalled(p, env))
        .map((p) => `${p.name} v${p.version}`);
}

if (require.main === module) {
    const missing = missingPlugins();
    if (missing.length > 0) {
        process.stdout.write(`${missing.join(", ")}\n`);
        process.exit(1);
    }
}
