/** The validator's problems for a raw config: [] when it is valid. */
import type { RawConfig } from "../../components/config/types";
import { ConfigError, validateConfig } from "../../components/config/validate";

export function configProblems(raw: RawConfig): string[] {
    try {
        validateConfig(raw);
    } catch (e) {
        if (e instanceof ConfigError) {
            return e.problems;
        }
        throw e;
    }
    return [];
}
