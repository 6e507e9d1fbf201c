/** The systemd unit serializer (components/kube/systemd.ts): quoting, comments, sections, refusals. */
import { strict as assert } from "assert";
import { quoteExecArg, renderUnit } from "../components/kube/systemd";

describe("systemd unit serializer, each rule", () => {
    it("quotes exactly the words systemd would split or expand", () => {
        const table: [string, string][] = [
            ["Az09_@%+=:,./-", "Az09_@%%+=:,./-"],
            ["/usr/local/bin/kubelet", "/usr/local/bin/kubelet"],
            ["a b", '"a b"'],
            ["", '""'],
            ["a\\b", '"a\\\\b"'],
            ['say "hi"', '"say \\"hi\\""'],
            ["$HOME", '"$HOME"'],
            ["x;y", '"x;y"'],
            ["50% off", '"50%% off"'],
        ];
        for (const [arg, want] of table) {
            assert.equal(quoteExecArg(arg), want, arg);
        }
    });
    it("numbers, comments, % in values, sections apart, ExecStart continued on indented lines", () => {
        const text = renderUnit([
            { name: "Unit", entries: [{ comment: "the guide's unit" }, { key: "Description", value: "100% kubelet" }] },
            { name: "Service", entries: [{ key: "ExecStart", value: { command: "/usr/bin/x", args: ["--a=1", "b c"], indent: "  " } }, { key: "RestartSec", value: 5 }] },
            { name: "Install", entries: [] },
        ]);
        assert.equal(text, '[Unit]\n# the guide\'s unit\nDescription=100%% kubelet\n\n[Service]\nExecStart=/usr/bin/x \\\n  --a=1 \\\n  "b c"\nRestartSec=5\n\n[Install]\n');
        assert.throws(() => renderUnit([{ name: "Unit", entries: [{ key: "Description", value: "a\rb" }] }]), { message: 'a unit value may not span lines: "a\\rb"' });
        assert.throws(() => renderUnit([{ name: "Service", entries: [{ key: "ExecStart", value: { command: "kubelet", args: [], indent: "" } }] }]), {
            message: 'ExecStart needs an absolute path, got "kubelet"',
        });
    });
});
