/**
 * The hardway-workers policy pack: `pulumi preview --policy-pack policy`
 * (after `npm run build`, which compiles it to bin/policy). The rules are in
 * rules.ts, what each guards beside it; policies.ts wires them.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("hardway-workers", { policies: POLICIES });
