/**
 * The policies of the pack (index.ts serves them): each feeds one rule of
 * rules.ts from what the engine sends. Kept apart from the PolicyPack so the
 * tests can call each validation directly.
 *
 * Where the values come from:
 * - resource validation gets a resource's inputs: the remote commands'
 *   `connection`;
 * - stack validation gets every resource of the stack: the bootstrap token
 *   component and its Renewal child, and the root stack's outputs, which the
 *   program sets from the validated stack config (`kubernetesVersion`,
 *   `kubeProxyMode`) and from the control plane's stack
 *   (`controlPlaneVersion`). @pulumi/policy gives a pack no other view of the
 *   stack config.
 */
import type { ResourceValidationPolicy, StackValidationPolicy, PolicyResource } from "@pulumi/policy";
import { hostKeyProblem, ipvsProblem, stackOfUrn, tokenExpiryProblems, versionSkewProblem } from "./rules";

export const REMOTE_COMMAND = "command:remote:Command";
export const BOOTSTRAP_TOKEN = "hardway:cluster:BootstrapToken";
export const RENEWAL = "pulumi-nodejs:dynamic/hardway:Renewal";
export const ROOT_STACK = "pulumi:pulumi:Stack";

function rootOutputs(resources: PolicyResource[]): Record<string, unknown> {
    return resources.find((r) => r.type === ROOT_STACK)?.props ?? {};
}

export const hostKeyPinned: ResourceValidationPolicy = {
    name: "remote-command-pins-host-key",
    description: "Every remote command pins the node's SSH host key.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== REMOTE_COMMAND) {
            return;
        }
        const problem = hostKeyProblem(args.props["connection"]);
        if (problem) {
            reportViolation(problem);
        }
    },
};

export const prodTokenExpires: StackValidationPolicy = {
    name: "prod-bootstrap-token-expires",
    description: "No production stack runs a bootstrap token without expiry.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const stack = stackOfUrn(args.resources[0]?.urn ?? "");
        const problems = tokenExpiryProblems(stack, {
            tokens: args.resources.filter((r) => r.type === BOOTSTRAP_TOKEN).map((r) => r.urn),
            renewals: args.resources
                .filter((r) => r.type === RENEWAL)
                .map((r) => ({ parent: r.parent?.urn, validityHours: r.props["validityHours"] })),
        });
        for (const p of problems) {
            reportViolation(p.message, p.urn);
        }
    },
};

export const kubeletNotNewer: StackValidationPolicy = {
    name: "kubelet-not-newer-than-api-server",
    description: "The kubelet is not newer than the API server, when the control plane's version is known.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const outputs = rootOutputs(args.resources);
        const problem = versionSkewProblem(outputs["kubernetesVersion"], outputs["controlPlaneVersion"]);
        if (problem) {
            reportViolation(problem);
        }
    },
};

export const ipvsDeprecated: StackValidationPolicy = {
    name: "kube-proxy-ipvs-deprecated",
    description: "kube-proxy's ipvs mode on Kubernetes 1.35 or later (deprecated there).",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        const outputs = rootOutputs(args.resources);
        const problem = ipvsProblem(outputs["kubeProxyMode"], outputs["kubernetesVersion"]);
        if (problem) {
            reportViolation(problem);
        }
    },
};

export const POLICIES = [hostKeyPinned, prodTokenExpires, kubeletNotNewer, ipvsDeprecated];
