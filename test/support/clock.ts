/** The providers' clock (HARDWAY_NOW) set to `iso` while `fn` runs, then put back as it was. */
export async function at<T>(iso: string, fn: () => Promise<T>): Promise<T> {
    const before = process.env["HARDWAY_NOW"];
    process.env["HARDWAY_NOW"] = iso;
    try {
        return await fn();
    } finally {
        if (before === undefined) {
            delete process.env["HARDWAY_NOW"];
        } else {
            process.env["HARDWAY_NOW"] = before;
        }
    }
}
