import { describe, expect, it } from "vitest";
import { moduleReplaces } from "./go-binary.js";

describe("moduleReplaces", () => {
  it("keeps replaces to another module version, in both forms, and drops local paths", () => {
    const goMod = [
      "module example.com/m",
      "",
      "// replace github.com/seaweedfs/raft => /Users/someone/raft",
      "replace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0 // fork",
      "replace (",
      "\texample.com/a v1.2.0 => example.com/b v1.3.0",
      "\texample.com/local => ./local",
      ")",
      "replace example.com/abs => /abs/path",
    ].join("\n");
    expect(moduleReplaces(goMod)).toEqual([
      "github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0",
      "example.com/a v1.2.0 => example.com/b v1.3.0",
    ]);
  });
});
