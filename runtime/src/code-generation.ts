// Whether this process may compile JavaScript from strings. Hardened deployments run node with
// --disallow-code-generation-from-strings, under which `new Function` and `eval` throw an
// EvalError; every generated fast path (tree runs, the request validator's accept check, the
// batch row maker) asks here once and takes its plain fallback, same results, when it is off.

/** The node option that switches code generation from strings off. */
export const NO_CODEGEN_FLAG = "--disallow-code-generation-from-strings";

function probe(): boolean {
  try {
    new Function("return 1");
    return true;
  } catch (err) {
    if (err instanceof EvalError) return false;
    throw err;
  }
}

/** True unless this process forbids code generation from strings (tried once, at import). */
export const codeGenerationAllowed: boolean = probe();
