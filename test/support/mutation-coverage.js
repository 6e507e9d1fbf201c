/**
 * Loaded by `npm run mutate` only (stryker.config.json): per-test coverage
 * for code that runs in a suite's before() hook (e.g. the whole program
 * under mocks, run once for a suite). Stryker counts coverage against the
 * test that runs next or ran last; this hands what a before() hook covers to
 * every test of its suite, so that a mutant there runs the tests that read
 * what the hook built.
 */
const Suite = require("mocha/lib/suite");

function testsOf(suite) {
    return [...suite.tests, ...suite.suites.flatMap(testsOf)];
}

const beforeAll = Suite.prototype.beforeAll;
Suite.prototype.beforeAll = function (title, fn) {
    if (typeof title === "function") {
        fn = title;
        title = fn.name;
    }
    const suite = this;
    const hook = fn;
    const wrapped = async function () {
        const ns = globalThis.__stryker__;
        if (!ns) {
            return hook.call(this);
        }
        const perTest = (ns.mutantCoverage ??= { static: {}, perTest: {} }).perTest;
        const previous = ns.currentTestId;
        const id = `before() of ${suite.fullTitle()}`;
        ns.currentTestId = id;
        try {
            return await hook.call(this);
        } finally {
            const covered = perTest[id];
            delete perTest[id];
            if (covered) {
                for (const t of testsOf(suite)) {
                    const into = (perTest[t.fullTitle()] ??= {});
                    for (const [mutant, hits] of Object.entries(covered)) {
                        into[mutant] = (into[mutant] ?? 0) + hits;
                    }
                }
            }
            ns.currentTestId = previous;
        }
    };
    return beforeAll.call(this, title, wrapped);
};
