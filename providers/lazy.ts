/**
 * What a dynamic resource stores of its provider: a few hundred bytes that
 * load the implementation at run time, instead of the serialized
 * implementation itself (12 KB for NodeLifecycle, 4 KB for Renewal, in every
 * resource's inputs and outputs).
 *
 * The engine runs the dynamic provider host in the program's directory (the
 * project's, or bin/ where Pulumi.yaml's main points), so the project is the
 * nearest directory up from there that holds Pulumi.yaml, and the
 * implementation is its own `bin/providers/<module>.js` (`npm run build`),
 * or its TypeScript source where ts-node is loaded (the tests). A stack therefore runs the provider code of the program that runs
 * it, as with any provider plugin; each provider's `version` input marks a
 * change of behaviour.
 */
import * as pulumi from "@pulumi/pulumi";

/** `read` of a provider that has none keeps what the state says, as the provider host does (no comment inside: it would be stored). */
export function lazyProvider(module: string, exportName: string): pulumi.dynamic.ResourceProvider {
    const load = (): pulumi.dynamic.ResourceProvider => {
        const path = require("path");
        const fs = require("fs");
        let project = process.cwd();
        while (!fs.existsSync(path.join(project, "Pulumi.yaml")) && path.dirname(project) !== project) {
            project = path.dirname(project);
        }
        const compiled = path.join(project, "bin", "providers", `${module}.js`);
        const source = path.join(project, "providers", `${module}.ts`);
        const useSource = require.extensions[".ts"] !== undefined && fs.existsSync(source);
        if (!useSource && !fs.existsSync(compiled)) {
            throw new Error(`hardway-workers: ${compiled} is missing: run 'npm run build' in ${project}`);
        }
        return require(useSource ? source : compiled)[exportName];
    };
    return {
        check: (olds: any, news: any) => load().check!(olds, news),
        diff: (id: string, olds: any, news: any) => load().diff!(id, olds, news),
        create: (inputs: any) => load().create(inputs),
        update: (id: string, olds: any, news: any) => load().update!(id, olds, news),
        delete: (id: string, props: any) => load().delete!(id, props),
        read: (id: string, props: any) => {
            const p = load();
            return p.read ? p.read(id, props) : Promise.resolve({ id, props });
        },
    };
}
