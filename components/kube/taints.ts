/** Node taints: their shape, their `key[=value]:Effect` text, and the control-plane taint. */

export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

export interface Taint {
    key: string;
    value?: string;
    effect: TaintEffect;
}

/** The taint every control-plane node registers with. */
export const CONTROL_PLANE_TAINT: Taint = { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" };

export function formatTaint(t: Taint): string {
    return `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`;
}
