/**
 * The bootstrap token's Secret and the three TLS-bootstrapping RBAC bindings
 * (kube/bootstrapToken.ts), as one multi-document YAML for `kubectl apply -f`.
 */
import * as YAML from "yaml";
import { BootstrapTokenInput, bootstrapRbac, bootstrapTokenSecret } from "../kube/bootstrapToken";

/** `owner`: the stack, `<project>/<stack>`, whose bindings these are (bootstrapRbac). */
export function renderBootstrapManifests(t: BootstrapTokenInput, owner: string): string {
    return [bootstrapTokenSecret(t), ...bootstrapRbac(owner)]
        .map((doc) => YAML.stringify(doc, { indentSeq: false, lineWidth: 0 }))
        .join("---\n");
}
