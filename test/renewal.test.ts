/** The Renewal dynamic provider, on a fake clock (HARDWAY_NOW). */
import { strict as assert } from "assert";
import { RENEWAL_PROVIDER_VERSION, RenewalOutputs, renewalProvider } from "../providers/renewal";
import { at } from "./support/clock";

const HOUR = 3600 * 1000;

describe("Renewal provider (fake clock)", () => {
    const inputs = { validityHours: 8760, renewBeforeHours: 720, version: RENEWAL_PROVIDER_VERSION };
    let issued: RenewalOutputs;

    before(async () => {
        const created = await at("2026-01-01T00:00:00.000Z", () => renewalProvider.create!(inputs));
        issued = created.outs as RenewalOutputs;
    });

    it("records when it was issued, when to renew and when it expires", () => {
        assert.equal(issued.issuedAt, "2026-01-01T00:00:00.000Z");
        assert.equal(issued.expiresAt, new Date(Date.parse("2026-01-01T00:00:00Z") + 8760 * HOUR).toISOString());
        assert.equal(issued.renewAt, new Date(Date.parse("2026-01-01T00:00:00Z") + (8760 - 720) * HOUR).toISOString());
    });

    const table: [string, string, boolean][] = [
        ["a day after issue", "2026-01-02T00:00:00.000Z", false],
        ["one hour before the window opens", new Date(Date.parse("2026-01-01T00:00:00Z") + (8760 - 721) * HOUR).toISOString(), false],
        ["the moment the window opens", new Date(Date.parse("2026-01-01T00:00:00Z") + (8760 - 720) * HOUR).toISOString(), true],
        ["a week before expiry", new Date(Date.parse("2026-01-01T00:00:00Z") + (8760 - 168) * HOUR).toISOString(), true],
        ["after expiry", "2027-06-01T00:00:00.000Z", true],
    ];
    for (const [when, now, renew] of table) {
        it(`${renew ? "replaces" : "keeps"} the certificate ${when}`, async () => {
            const diff = await at(now, () => renewalProvider.diff!("id", issued, inputs));
            assert.equal(diff.changes, renew);
            assert.deepEqual(diff.replaces, renew ? ["renewAt"] : []);
        });
    }

    it("issues anew, from the new time, when replaced", async () => {
        const again = await at("2026-12-15T00:00:00.000Z", () => renewalProvider.create!(inputs));
        assert.equal((again.outs as RenewalOutputs).issuedAt, "2026-12-15T00:00:00.000Z");
        const diff = await at("2026-12-16T00:00:00.000Z", () => renewalProvider.diff!("id", again.outs, inputs));
        assert.equal(diff.changes, false);
    });

    it("replaces when the validity changes, updates when only the provider version changes", async () => {
        const longer = await at("2026-01-02T00:00:00.000Z", () => renewalProvider.diff!("id", issued, { ...inputs, validityHours: 17520 }));
        assert.deepEqual(longer.replaces, ["validityHours"]);
        const bumped = await at("2026-01-02T00:00:00.000Z", () => renewalProvider.diff!("id", issued, { ...inputs, version: "next" }));
        assert.equal(bumped.changes, true);
        assert.deepEqual(bumped.replaces, []);
        const updated = await renewalProvider.update!("id", issued, { ...inputs, version: "next" });
        assert.equal(updated.outs.issuedAt, issued.issuedAt, "an update keeps the issue date");
    });

    it("rejects a renewal window as long as the validity", async () => {
        const check = await renewalProvider.check!({}, { ...inputs, renewBeforeHours: 8760 });
        assert.equal(check.failures?.[0].property, "renewBeforeHours");
    });

    it("refuses a HARDWAY_NOW that is not a date", async () => {
        await assert.rejects(at("soon", () => renewalProvider.create!(inputs)), { message: "HARDWAY_NOW=soon is not an ISO date" });
    });
});
