/**
 * What the phases' plans share. A plan is pure: plain values in (the node,
 * the cluster config, facts the node printed, certificate PEMs), plain data
 * out: the files the phase lays down, the units it runs, the secrets it reads
 * on stdin by name, and the script text built from them. The phase's
 * component only wires Pulumi Outputs into its plan.
 */
import type { NodeConfig, WorkerConfig } from "../config/types";
import type { ClusterRef } from "../kube/kubeconfig";
import type { FileStep, ServiceStep } from "./scripts";

/** What every phase's plan gives. */
export interface PhasePlan {
    /** The phase's name on the node (HW_COMPONENT: its journal's folder). */
    component: string;
    /** The files it lays down, in order, each with the effect a change has. */
    files: FileStep[];
    /** The secrets its script reads on stdin, by name, sorted. */
    secrets: string[];
    /** The units it enables and starts (restarting on a change of what they read), and whether it waits for them to stay up. */
    services: ServiceStep[];
    /** The remote command's `create` and `delete`. */
    create: string;
    delete: string;
}

export const ROOT_FILE = { owner: "root", group: "root" } as const;

/** The cluster as a kubeconfig names it. */
export function clusterRefOf(cluster: Pick<WorkerConfig, "clusterName" | "apiServer" | "caBundlePem">): ClusterRef {
    return { clusterName: cluster.clusterName, server: cluster.apiServer, caBundlePem: cluster.caBundlePem };
}

export type Usage = "server_auth" | "client_auth";

/** What a node certificate is issued for: the plain part of NodeCertificateArgs (the CA comes from the config). */
export interface CertificateSpec {
    commonName: string;
    organization: string;
    usage: Usage;
    dnsNames: string[];
    ipAddresses: string[];
    validityHours: number;
    renewBeforeHours: number;
}

/** A certificate for the node, with its FQDN and IP as SANs. */
export function nodeCertificate(
    node: Pick<NodeConfig, "fqdn" | "ip">,
    cluster: Pick<WorkerConfig, "certValidityHours" | "certRenewBeforeHours">,
    subject: { commonName: string; organization: string; usage: Usage },
): CertificateSpec {
    return {
        ...subject,
        dnsNames: [node.fqdn],
        ipAddresses: [node.ip],
        validityHours: cluster.certValidityHours,
        renewBeforeHours: cluster.certRenewBeforeHours,
    };
}
